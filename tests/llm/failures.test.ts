import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createLlmClient, LlmError } from '../../src/llm'
import { type FakeLlmServer, startFakeLlmServer } from '../fake-llm/server'
import { closedPort, until, VENDOR_TYPES, vendorSpec } from './helpers'

let server: FakeLlmServer
beforeAll(async () => {
  server = await startFakeLlmServer()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const ask = { messages: [{ role: 'user' as const, content: 'hello' }] }

async function failure(promise: Promise<unknown>): Promise<LlmError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(LlmError)
  return err as LlmError
}

describe.each(VENDOR_TYPES)('%s: retries and failures', (type) => {
  it.each([429, 503])('retries after HTTP %i and succeeds (two requests)', async (status) => {
    const client = createLlmClient(vendorSpec(type, server, { maxRetries: 2 }))
    server.enqueue({ status }, 'recovered')
    const response = await client.generate(ask)
    expect(response.text).toBe('recovered')
    expect(server.requests).toHaveLength(2)
  })

  it('retries a streaming call after 429', async () => {
    const client = createLlmClient(vendorSpec(type, server, { maxRetries: 2 }))
    server.enqueue({ status: 429 }, { status: 503 }, 'streamed after retries')
    const deltas: string[] = []
    const response = await client.generate({ ...ask, onTextDelta: (d) => deltas.push(d) })
    expect(deltas.join('')).toBe('streamed after retries')
    expect(response.text).toBe('streamed after retries')
    expect(server.requests).toHaveLength(3)
  })

  it('gives up after maxRetries with llm_http_error naming provider, model, base URL and status', async () => {
    const client = createLlmClient(vendorSpec(type, server, { name: 'glm', maxRetries: 1 }))
    server.enqueue({ status: 503 }, { status: 503 })
    const err = await failure(client.generate(ask))
    expect(server.requests).toHaveLength(2)
    expect(err.code).toBe('llm_http_error')
    const { model, baseUrl } = vendorSpec(type, server)
    expect(err.message).toContain(`LLM provider "glm" (${type}, model ${model}, base URL ${baseUrl})`)
    expect(err.message).toMatch(/HTTP 503/)
    expect(err.message).toMatch(/after 2 attempts/)
    expect(err.message).not.toContain('\n')
    expect(err.stack).not.toMatch(/\n\s+at /)
  })

  it('does not retry a 401 and reports the vendor message', async () => {
    const client = createLlmClient(vendorSpec(type, server, { maxRetries: 3 }))
    server.enqueue({ status: 401 })
    const err = await failure(client.generate(ask))
    expect(server.requests).toHaveLength(1)
    expect(err.code).toBe('llm_http_error')
    expect(err.message).toMatch(/HTTP 401: .*(API key|x-api-key)/i)
  })

  it('times out a slow call with llm_timeout, and the server sees the client go away', async () => {
    const client = createLlmClient(vendorSpec(type, server, { timeoutMs: 150 }))
    server.enqueue({ text: 'too late', delayMs: 10_000 })
    const err = await failure(client.generate(ask))
    expect(err.code).toBe('llm_timeout')
    expect(err.message).toMatch(/did not answer within 150 ms/)
  })

  it('times out a stream that stalls between chunks', async () => {
    const client = createLlmClient(vendorSpec(type, server, { timeoutMs: 200 }))
    server.enqueue({ text: 'a b c d e f', chunkDelayMs: 10_000 })
    const deltas: string[] = []
    const err = await failure(client.generate({ ...ask, onTextDelta: (d) => deltas.push(d) }))
    expect(err.code).toBe('llm_timeout')
    expect(deltas.join('')).not.toBe('a b c d e f')
  })

  it('cancels with llm_cancelled when the caller aborts mid-call', async () => {
    const client = createLlmClient(vendorSpec(type, server))
    server.enqueue({ text: 'never', delayMs: 10_000 })
    const controller = new AbortController()
    const pending = client.generate({ ...ask, abortSignal: controller.signal })
    await until(() => server.requests.length === 1)
    controller.abort()
    const err = await failure(pending)
    expect(err.code).toBe('llm_cancelled')
    expect(err.message).toContain('call cancelled')
  })

  it('reports an unreachable base URL with llm_unreachable and the socket reason', async () => {
    const port = await closedPort()
    const baseUrl = `http://127.0.0.1:${port}/v1`
    const client = createLlmClient({ ...vendorSpec(type, server), name: 'default', model: 'glm-4', baseUrl })
    const err = await failure(client.generate(ask))
    expect(err.code).toBe('llm_unreachable')
    expect(err.message).toBe(
      `LLM provider "default" (${type}, model glm-4, base URL ${baseUrl}) is unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    )
  })
})

it('retries Anthropic 529 (overloaded)', async () => {
  const client = createLlmClient(vendorSpec('anthropic', server, { maxRetries: 1 }))
  server.enqueue({ status: 529 }, 'after overload')
  expect((await client.generate(ask)).text).toBe('after overload')
  expect(server.requests).toHaveLength(2)
})

describe('misconfigured clients', () => {
  it.each([
    ['anthropic', { apiKey: undefined }, /set an API key/],
    ['openai', { apiKey: undefined }, /set an API key/],
    ['openai-compatible', { baseUrl: undefined }, /set a base URL/],
    ['openai-compatible', { model: '' }, /set a model/],
  ] as const)('%s without %o fails at build time', (type, missing, message) => {
    const build = () => createLlmClient({ ...vendorSpec(type, server), ...missing })
    expect(build).toThrow(LlmError)
    expect(build).toThrow(message)
    try {
      build()
    } catch (err) {
      expect((err as LlmError).code).toBe('llm_misconfigured')
    }
  })

  it('names the variable to set when the spec says where a setting comes from', () => {
    const build = () =>
      createLlmClient({
        name: 'default',
        type: 'anthropic',
        model: 'claude-sonnet-4-5',
        sources: { apiKey: 'ANTHROPIC_API_KEY' },
      })
    expect(build).toThrow(
      'LLM provider "default" (anthropic, model claude-sonnet-4-5, base URL https://api.anthropic.com/v1) is misconfigured: set ANTHROPIC_API_KEY',
    )
  })
})
