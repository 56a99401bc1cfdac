/** Like the vendors' APIs: text ends before the earliest stop sequence, which is not returned. */
export function cutAtStop(text: string, stops: readonly string[]): { text: string; stopSequence: string | null } {
  let best: { at: number; stop: string } | undefined
  for (const stop of stops) {
    const at = stop ? text.indexOf(stop) : -1
    if (at >= 0 && (!best || at < best.at)) best = { at, stop }
  }
  return best ? { text: text.slice(0, best.at), stopSequence: best.stop } : { text, stopSequence: null }
}
