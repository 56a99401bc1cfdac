import { APICallError, RetryError } from 'ai'
import { AppError } from '../config/errors'

export type LlmErrorCode =
  | 'llm_misconfigured'
  | 'llm_unreachable'
  | 'llm_http_error'
  | 'llm_timeout'
  | 'llm_cancelled'
  | 'llm_bad_response'
  | 'llm_unknown_provider'

/** Where a call went: every LLM error message names it, so a user can fix the right setting. */
export interface LlmEndpoint {
  name: string
  type: string
  model: string
  baseUrl?: string
}

export function describeEndpoint(e: LlmEndpoint): string {
  const base = e.baseUrl ? `, base URL ${e.baseUrl}` : ''
  return `LLM provider "${e.name}" (${e.type}, model ${e.model}${base})`
}

/** A failed LLM call or an unusable provider setting: a stable code plus a one-line message, no stack. */
export class LlmError extends AppError {
  constructor(code: LlmErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details)
    this.name = 'LlmError'
    // The message is the whole story; a stack would only repeat SDK internals to the user.
    this.stack = `${this.name}: ${message}`
  }
}

export function misconfigured(endpoint: LlmEndpoint, problem: string): LlmError {
  return new LlmError('llm_misconfigured', `${describeEndpoint(endpoint)} is misconfigured: ${problem}`, {
    ...endpoint,
  })
}

/** Why the call was aborted: the caller's signal means cancelled, our own deadline means timeout. */
export type AbortCause = 'cancelled' | 'timeout' | undefined

/** Maps whatever the AI SDK threw into an LlmError naming provider, model and base URL. */
export function toLlmError(err: unknown, endpoint: LlmEndpoint, aborted: AbortCause, timeoutMs: number): LlmError {
  if (err instanceof LlmError) return err
  const who = describeEndpoint(endpoint)
  if (aborted === 'cancelled') return new LlmError('llm_cancelled', `${who}: call cancelled`, { ...endpoint })
  if (aborted === 'timeout') {
    return new LlmError('llm_timeout', `${who} did not answer within ${timeoutMs} ms`, { ...endpoint, timeoutMs })
  }
  const attempts = RetryError.isInstance(err) ? err.errors.length : 1
  const last = RetryError.isInstance(err) ? err.lastError : err
  const after = attempts > 1 ? ` (after ${attempts} attempts)` : ''
  if (APICallError.isInstance(last) && last.statusCode !== undefined) {
    const status = last.statusCode
    return new LlmError('llm_http_error', `${who} returned HTTP ${status}: ${oneLine(last.message)}${after}`, {
      ...endpoint,
      status,
      attempts,
    })
  }
  if (APICallError.isInstance(last)) {
    return new LlmError('llm_unreachable', `${who} is unreachable: ${networkReason(last)}${after}`, {
      ...endpoint,
      attempts,
    })
  }
  return new LlmError('llm_bad_response', `${who} failed: ${oneLine(messageOf(last))}`, { ...endpoint })
}

/** The innermost socket-level reason, e.g. `connect ECONNREFUSED 127.0.0.1:9`. */
function networkReason(err: Error): string {
  let current: unknown = err
  let reason = err.message.replace(/^Cannot connect to API: /, '')
  while (current instanceof Error) {
    if (current !== err && current.message) reason = current.message
    current = current.cause
  }
  return oneLine(reason)
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err))
const oneLine = (text: string) => text.split('\n')[0].trim()
