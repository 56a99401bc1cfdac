/** Runs tasks one after another, like cells of a notebook; a failed task does not block the next. */
export class RunQueue {
  private tail: Promise<unknown> = Promise.resolve()

  push<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    this.tail = result.catch(() => undefined)
    return result
  }
}
