type Signal = 'SIGTERM' | 'SIGINT'
type Listener = (...args: unknown[]) => void

/**
 * Runs `drain` before anyone else's SIGTERM/SIGINT handler. Motia's own handler closes Redis and exits
 * at once, which would lose running tasks; we hold it (and the embedded Redis' cleanup) back until the
 * drain is done, then let them run as before. A second Ctrl-C exits immediately.
 */
export function drainBeforeExit(drain: (signal: Signal) => Promise<void>, log: (msg: string) => void): void {
  const deferred: Record<Signal, Listener[]> = {
    SIGTERM: process.listeners('SIGTERM') as Listener[],
    SIGINT: process.listeners('SIGINT') as Listener[],
  }
  process.removeAllListeners('SIGTERM')
  process.removeAllListeners('SIGINT')
  const originalOn = process.on.bind(process)
  // Motia registers its handlers after plugins start; queue those behind the drain as well.
  process.on = ((event: string | symbol, listener: Listener) => {
    if (event === 'SIGTERM' || event === 'SIGINT') {
      deferred[event].push(listener)
      return process
    }
    return originalOn(event, listener)
  }) as typeof process.on

  let draining = false
  const onSignal = (signal: Signal) => {
    if (draining) {
      // Ctrl-C twice means "now"; a repeated SIGTERM (process managers send several) changes nothing.
      if (signal === 'SIGINT') {
        log('SIGINT again: exiting without waiting')
        process.exit(1)
      }
      return
    }
    draining = true
    log(`${signal}: draining before exit`)
    void drain(signal)
      .catch((err) => log(`drain failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        for (const listener of deferred[signal]) listener(signal)
        if (deferred[signal].length === 0) process.exit(0)
      })
  }
  originalOn('SIGTERM', onSignal)
  originalOn('SIGINT', onSignal)
}
