import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cutAtStop } from '../../src/llm/stop-sequences'
import { countWords, inputWords, stopSequences, toFakeRequest } from './request'
import type { FakeApi, FakeLlmRequest, FakeLlmServer, FakeReply, FakeResponder, ResolvedReply } from './types'
import { completionBody, errorBodyFor, streamFrames } from './wire'

export { countWords, inputWords } from './request'
export type { FakeLlmRequest, FakeLlmServer, FakeReply, FakeResponder } from './types'

const ROUTES: Record<string, FakeApi> = { '/v1/chat/completions': 'openai', '/v1/messages': 'anthropic' }
const RETRYABLE = new Set([429, 503, 529])

// An unscripted request is a test bug: answer 400 (never retried) so it fails fast and loudly.
const unscripted: FakeResponder = () => ({
  status: 400,
  text: 'fake LLM server: no reply scripted for this request (enqueue one or set a responder)',
})

/**
 * A local LLM endpoint speaking the OpenAI Chat Completions and Anthropic Messages wire formats,
 * streaming and not, answering from a queue of scripted replies and recording every request.
 * Other processes can drive it over HTTP: POST /_fake/replies, GET /_fake/requests, POST /_fake/reset.
 */
export async function startFakeLlmServer(
  opts: { port?: number; responder?: FakeResponder } = {},
): Promise<FakeLlmServer> {
  const requests: FakeLlmRequest[] = []
  const queue: FakeReply[] = []
  const initialResponder = opts.responder ?? unscripted
  let responder = initialResponder

  const control = {
    enqueue: (...replies: FakeReply[]) => void queue.push(...replies),
    setResponder: (fn: FakeResponder) => {
      responder = fn
    },
    reset: () => {
      requests.length = 0
      queue.length = 0
      responder = initialResponder
    },
  }

  async function answer(api: FakeApi, body: Record<string, unknown>, req: IncomingMessage, res: ServerResponse) {
    const recorded = toFakeRequest(api, body, req.headers)
    requests.push(recorded)
    let reply: FakeReply
    try {
      reply = queue.length ? (queue.shift() as FakeReply) : await responder(recorded)
    } catch (err) {
      reply = { status: 400, text: `fake LLM responder threw: ${err instanceof Error ? err.message : String(err)}` }
    }
    const resolved = resolveReply(reply, recorded, stopSequences(api, body))
    if (!(await pause(resolved.delayMs, res))) return
    if (resolved.status >= 400) return sendError(api, resolved, res)
    if (!recorded.stream) return sendJson(res, 200, completionBody(api, recorded.model, resolved), resolved.headers)
    const options = body.stream_options as { include_usage?: boolean } | undefined
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...resolved.headers })
    for (const [i, frame] of streamFrames(api, recorded.model, resolved, options?.include_usage === true).entries()) {
      if (i > 0 && !(await pause(resolved.chunkDelayMs, res))) return
      res.write(frame)
    }
    res.end()
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { ok: true })
    if (req.method === 'GET' && path === '/_fake/requests') return sendJson(res, 200, requests)
    if (req.method === 'POST' && path === '/_fake/reset') {
      control.reset()
      return sendJson(res, 200, { ok: true })
    }
    const api = ROUTES[path]
    if (req.method !== 'POST' || (!api && path !== '/_fake/replies')) {
      return sendJson(res, 404, { error: { message: `fake LLM server: no route ${req.method} ${path}` } })
    }
    let body: unknown
    try {
      body = JSON.parse(await readBody(req))
    } catch {
      return sendJson(res, 400, errorBodyFor(api ?? 'openai', 400, 'request body is not valid JSON'))
    }
    if (!api) {
      control.enqueue(...(Array.isArray(body) ? body : [body]))
      return sendJson(res, 200, { queued: queue.length })
    }
    return answer(api, (body ?? {}) as Record<string, unknown>, req, res)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(err) } })
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: `${url}/v1`,
    requests,
    ...control,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function resolveReply(reply: FakeReply, req: FakeLlmRequest, stops: string[]): ResolvedReply {
  const r = typeof reply === 'string' ? { text: reply } : reply
  const { text, stopSequence } = cutAtStop(r.text ?? '', stops)
  const status = r.status ?? 200
  return {
    text,
    status,
    errorBody: r.errorBody,
    delayMs: r.delayMs ?? 0,
    chunkDelayMs: r.chunkDelayMs ?? 0,
    usage: r.usage ?? { inputTokens: inputWords(req), outputTokens: countWords(text) },
    headers: { ...(RETRYABLE.has(status) ? { 'retry-after': '0' } : {}), ...r.headers },
    finishReason: stopSequence === null ? 'stop' : 'stop_sequence',
    stopSequence,
  }
}

function sendError(api: FakeApi, reply: ResolvedReply, res: ServerResponse) {
  const body = reply.errorBody ?? errorBodyFor(api, reply.status, reply.text || undefined)
  sendJson(res, reply.status, body, reply.headers)
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** Waits `ms`; resolves false (and stops) as soon as the client has gone away. */
function pause(ms: number, res: ServerResponse): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false)
  if (ms <= 0) return Promise.resolve(true)
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      res.off('close', onClose)
      resolve(true)
    }, ms)
    res.once('close', onClose)
  })
}
