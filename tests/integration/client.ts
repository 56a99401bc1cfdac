import { setTimeout as sleep } from 'node:timers/promises'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field in tests
export type Json = any

export interface Reply {
  status: number
  body: Json
  headers: Headers
}

/** A tiny JSON HTTP client for the integration suites. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(opts.body !== undefined && { 'content-type': 'application/json' }), ...opts.headers },
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    // A hung server fails the test with a message instead of stalling it until the suite timeout.
    signal: AbortSignal.timeout(30_000),
  })
  const text = await res.text()
  let body: Json = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, body, headers: res.headers }
}

/** Minimal SSE frame parser: the `event:` and `data:` fields of each frame. */
export function parseSse(text: string): { event: string; data: Json }[] {
  return text
    .split('\n\n')
    .map((frame) =>
      Object.fromEntries(
        frame.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
      ),
    )
    .filter((f) => f.event && f.data)
    .map((f) => ({ event: f.event as string, data: JSON.parse(f.data) }))
}

/** Follows the execution's SSE stream to its `done` event and returns the final record. */
export async function awaitDone(
  base: string,
  executionId: string,
  headers: Record<string, string> = {},
): Promise<Json> {
  const res = await fetch(`${base}/agent/executions/${executionId}/events`, { headers })
  const events = parseSse(await res.text())
  const done = events.find((e) => e.event === 'done')
  if (!done) throw new Error(`stream of ${executionId} ended without done: ${JSON.stringify(events.slice(-3))}`)
  return done.data.record
}

/** Polls the record until its status is one of `statuses`. */
export async function waitForStatus(
  base: string,
  id: string,
  statuses: string[],
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Json> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const { body } = await call(base, 'GET', `/agent/executions/${id}`, { headers })
    if (body && statuses.includes(body.status)) return body
    await sleep(100)
  }
  throw new Error(`execution ${id} did not reach ${statuses.join('/')} in ${timeoutMs} ms`)
}

/** Server environment for a suite: its own Redis, the fake LLM as an OpenAI-compatible provider. */
export function serverEnv(redisUrl: string, llmBaseUrl: string, extra: Record<string, string> = {}) {
  return {
    REDIS_URL: redisUrl,
    DEFAULT_LLM_PROVIDER: 'openai-compatible',
    DEFAULT_LLM_MODEL: 'fake-model',
    LLM_BASE_URL: llmBaseUrl,
    LLM_API_KEY: 'test-key',
    LLM_MAX_RETRIES: '0',
    ...extra,
  }
}
