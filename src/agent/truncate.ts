/** Keeps the head and the tail of a long text, with a note of how much was cut in between. */
export function truncateMiddle(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text
  const note = (cut: number) => `\n… [${cut} characters omitted] …\n`
  const keep = Math.max(0, maxChars - note(text.length).length)
  const head = Math.ceil(keep * 0.6)
  const tail = keep - head
  const cut = text.length - head - tail
  return text.slice(0, head) + note(cut) + (tail > 0 ? text.slice(text.length - tail) : '')
}

/** Tracebacks matter most at the end (the failing line and the message), so keep more of the tail. */
export function truncateTraceback(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text
  const note = (cut: number) => `… [${cut} characters omitted] …\n`
  const keep = Math.max(0, maxChars - note(text.length).length)
  const head = Math.floor(keep * 0.25)
  const tail = keep - head
  return text.slice(0, head) + note(text.length - head - tail) + text.slice(text.length - tail)
}

/** The token estimate used for history budgets: about four characters per token. */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4)
