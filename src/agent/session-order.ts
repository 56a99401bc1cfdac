/**
 * Tasks of one session run one after another, so each task's prompt holds the answers of the tasks
 * sent before it. (Within one process; the Motia layer orders tasks across instances.)
 */
export class SessionOrder {
  private readonly tails = new Map<string, Promise<void>>()

  async run<T>(sessionId: string, signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(sessionId) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = previous.then(() => mine)
    this.tails.set(sessionId, tail)
    try {
      // A task cancelled while it waits starts at once, sees the abort and ends as cancelled.
      await Promise.race([previous, aborted(signal)])
      return await task()
    } finally {
      release()
      if (this.tails.get(sessionId) === tail) this.tails.delete(sessionId)
    }
  }
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => undefined)
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
