import type { AbortCause } from './errors'

/** The caller's signal merged with a per-call timeout, remembering which of the two fired. */
export interface CallDeadline {
  signal: AbortSignal
  cause(): AbortCause
}

export function callDeadline(timeoutMs: number, callerSignal?: AbortSignal): CallDeadline {
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout
  return {
    signal,
    cause: () => (callerSignal?.aborted ? 'cancelled' : timeout.aborted ? 'timeout' : undefined),
  }
}
