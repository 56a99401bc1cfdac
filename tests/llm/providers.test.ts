import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createLlmClient } from '../../src/llm'
import { countWords, type FakeLlmServer, startFakeLlmServer } from '../fake-llm/server'
import { VENDOR_TYPES, vendorSpec, WIRE } from './helpers'

let server: FakeLlmServer
beforeAll(async () => {
  server = await startFakeLlmServer()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const request = {
  system: 'You write Python programs.',
  messages: [
    { role: 'user' as const, content: 'What is two plus two?' },
    { role: 'assistant' as const, content: 'Let me compute it.' },
    { role: 'user' as const, content: 'Answer with code please' },
  ],
}
// The fake server counts words of the system prompt and every message as input tokens.
const promptWords = countWords(request.system) + request.messages.reduce((n, m) => n + countWords(m.content), 0)

describe.each(VENDOR_TYPES)('%s provider against the fake server', (type) => {
  it('generates: text, usage from the response, and the request sent in the vendor format', async () => {
    const client = createLlmClient(vendorSpec(type, server))
    server.enqueue('```python\nfinal_answer(2 + 2)\n```')

    const response = await client.generate(request)

    expect(response.text).toBe('```python\nfinal_answer(2 + 2)\n```')
    // Five whitespace-separated words in the reply.
    expect(response.usage).toEqual({ inputTokens: promptWords, outputTokens: 5 })
    expect(response.provider).toBe(type)
    expect(response.providerName).toBe('test')
    expect(response.model).toBe(vendorSpec(type, server).model)
    expect(response.finishReason).toBe('stop')
    expect(response.latencyMs).toBeGreaterThanOrEqual(0)

    expect(server.requests).toHaveLength(1)
    const sent = server.requests[0]
    expect(sent.api).toBe(WIRE[type])
    expect(sent.stream).toBe(false)
    expect(sent.model).toBe(vendorSpec(type, server).model)
    expect(sent.system).toBe(request.system)
    expect(sent.messages).toEqual(request.messages)
    if (type === 'anthropic') {
      expect(sent.headers['x-api-key']).toBe('sk-test-123')
      expect(sent.headers['anthropic-version']).toBeTruthy()
    } else {
      expect(sent.headers.authorization).toBe('Bearer sk-test-123')
    }
  })

  it('streams: deltas arrive in order, join to the text, and usage comes from the stream', async () => {
    const client = createLlmClient(vendorSpec(type, server))
    server.enqueue('Searching now.\n```python\nprint(web_search("motia"))\n```')
    const deltas: string[] = []

    const response = await client.generate({ ...request, onTextDelta: (d) => deltas.push(d) })

    expect(deltas.length).toBeGreaterThan(1)
    expect(deltas.join('')).toBe(response.text)
    expect(response.text).toBe('Searching now.\n```python\nprint(web_search("motia"))\n```')
    expect(response.usage).toEqual({ inputTokens: promptWords, outputTokens: 5 })
    expect(server.requests[0].stream).toBe(true)
    if (WIRE[type] === 'openai') {
      // Without include_usage an OpenAI-style server sends no usage in a stream.
      expect(server.requests[0].rawBody).toMatchObject({ stream_options: { include_usage: true } })
    }
  })

  it('reports usage overridden by the server, streaming and not', async () => {
    const client = createLlmClient(vendorSpec(type, server))
    server.enqueue(
      { text: 'one', usage: { inputTokens: 1234, outputTokens: 56 } },
      { text: 'two', usage: { inputTokens: 789, outputTokens: 10 } },
    )
    expect((await client.generate(request)).usage).toEqual({ inputTokens: 1234, outputTokens: 56 })
    expect((await client.generate({ ...request, onTextDelta: () => {} })).usage).toEqual({
      inputTokens: 789,
      outputTokens: 10,
    })
  })

  it('passes stop sequences, output limit and temperature, and the reply ends before the stop', async () => {
    const client = createLlmClient(vendorSpec(type, server))
    server.enqueue('```python\nx = 1\n```\nThat was the program.')

    const response = await client.generate({ ...request, stop: ['\n```\n'], maxOutputTokens: 300, temperature: 0 })

    expect(response.text).toBe('```python\nx = 1')
    const body = server.requests[0].rawBody as Record<string, unknown>
    if (type === 'anthropic') {
      expect(body).toMatchObject({ stop_sequences: ['\n```\n'], max_tokens: 300, temperature: 0 })
    } else {
      expect(body).toMatchObject({ stop: ['\n```\n'], temperature: 0 })
      expect(body.max_tokens ?? body.max_completion_tokens).toBe(300)
    }
  })
})

it('openai-compatible sends no Authorization header when no key is set (Ollama, vLLM)', async () => {
  const client = createLlmClient({ ...vendorSpec('openai-compatible', server), apiKey: undefined })
  server.enqueue('hi')
  await client.generate(request)
  expect(server.requests[0].headers.authorization).toBeUndefined()
})
