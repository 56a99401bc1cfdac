import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { closedPort, until } from '../llm/helpers'
import { type FakeLlmServer, startFakeLlmServer } from './server'

let server: FakeLlmServer
beforeAll(async () => {
  server = await startFakeLlmServer()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const post = (path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  })

interface ChatCompletion {
  choices: { message: { content: string } }[]
}
interface AnthropicMessage {
  content: { text: string }[]
}
const json = <T>(res: Response) => res.json() as Promise<T>

/** The `data:` payloads of an SSE body, with their `event:` names when present. */
function sseEvents(body: string): { event?: string; data: string }[] {
  return body
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const event = block.match(/^event: (.*)$/m)?.[1]
      const data = block.match(/^data: (.*)$/m)?.[1] ?? ''
      return { event, data }
    })
}

const openaiBody = (extra: object = {}) => ({
  model: 'glm-4',
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: [{ type: 'text', text: 'hi there' }] },
  ],
  ...extra,
})
const anthropicBody = (extra: object = {}) => ({
  model: 'claude-sonnet-4-5',
  system: [{ type: 'text', text: 'be brief' }],
  max_tokens: 100,
  messages: [{ role: 'user', content: 'hi there' }],
  ...extra,
})

describe('OpenAI wire format', () => {
  it('answers a chat.completion with word-count usage and records the request', async () => {
    server.enqueue('two words')
    const res = await post('/v1/chat/completions', openaiBody(), { headers: { authorization: 'Bearer k' } })
    expect(await res.json()).toMatchObject({
      object: 'chat.completion',
      model: 'glm-4',
      choices: [{ index: 0, message: { role: 'assistant', content: 'two words' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
    })
    expect(server.requests[0]).toMatchObject({
      api: 'openai',
      model: 'glm-4',
      stream: false,
      system: 'be brief',
      messages: [{ role: 'user', content: 'hi there' }],
      lastUserMessage: 'hi there',
      headers: { authorization: 'Bearer k' },
    })
  })

  it('streams chat.completion.chunk frames, a usage chunk only with include_usage, then [DONE]', async () => {
    server.enqueue('a b c', 'a b c')
    const withUsage = sseEvents(
      await (
        await post('/v1/chat/completions', openaiBody({ stream: true, stream_options: { include_usage: true } }))
      ).text(),
    )
    expect(withUsage.at(-1)?.data).toBe('[DONE]')
    const chunks = withUsage.slice(0, -1).map((e) => JSON.parse(e.data))
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true)
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('a b c')
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop')
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 3 } })

    const plain = sseEvents(await (await post('/v1/chat/completions', openaiBody({ stream: true }))).text())
    expect(plain.at(-1)?.data).toBe('[DONE]')
    expect(plain.slice(0, -1).some((e) => JSON.parse(e.data).usage)).toBe(false)
  })

  it('answers errors with the vendor body, and retry-after on 429', async () => {
    server.enqueue({ status: 429 })
    const res = await post('/v1/chat/completions', openaiBody())
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('0')
    expect(await res.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    })
  })
})

describe('Anthropic wire format', () => {
  it('answers a message object with usage', async () => {
    server.enqueue({ text: 'hello', usage: { inputTokens: 11, outputTokens: 22 } })
    expect(await (await post('/v1/messages', anthropicBody())).json()).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'hello' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 11, output_tokens: 22 },
    })
    expect(server.requests[0]).toMatchObject({ api: 'anthropic', system: 'be brief', lastUserMessage: 'hi there' })
  })

  it('streams the event sequence of the Messages API', async () => {
    server.enqueue('one two')
    const events = sseEvents(await (await post('/v1/messages', anthropicBody({ stream: true }))).text())
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    const data = events.map((e) => JSON.parse(e.data))
    expect(data.every((d, i) => d.type === events[i].event)).toBe(true)
    expect(data[0].message.usage.input_tokens).toBe(4)
    expect(data.filter((d) => d.type === 'content_block_delta').map((d) => d.delta)).toEqual([
      { type: 'text_delta', text: 'one ' },
      { type: 'text_delta', text: 'two' },
    ])
    expect(data[6]).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } })
  })

  it('ends the text before the earliest stop sequence and reports which one', async () => {
    server.enqueue('alpha STOP beta END gamma', 'alpha STOP beta END gamma')
    const body = anthropicBody({ stop_sequences: ['END', 'STOP'] })
    expect(await (await post('/v1/messages', body)).json()).toMatchObject({
      content: [{ type: 'text', text: 'alpha ' }],
      stop_reason: 'stop_sequence',
      stop_sequence: 'STOP',
    })
    const events = sseEvents(await (await post('/v1/messages', { ...body, stream: true })).text())
    const delta = events.map((e) => JSON.parse(e.data)).find((d) => d.type === 'message_delta')
    expect(delta.delta).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'STOP' })
  })

  it('answers 529 with an overloaded_error body', async () => {
    server.enqueue({ status: 529 })
    const res = await post('/v1/messages', anthropicBody())
    expect(res.status).toBe(529)
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })
  })
})

describe('scripting and control', () => {
  it('uses the queue first, then the responder, and 400 when nothing is scripted', async () => {
    server.setResponder((req) => `echo: ${req.lastUserMessage}`)
    server.enqueue('queued')
    const texts = []
    for (let i = 0; i < 2; i++) {
      texts.push(
        (await json<ChatCompletion>(await post('/v1/chat/completions', openaiBody()))).choices[0].message.content,
      )
    }
    expect(texts).toEqual(['queued', 'echo: hi there'])
    server.reset()
    const res = await post('/v1/chat/completions', openaiBody())
    expect(res.status).toBe(400)
    expect(server.requests).toHaveLength(1)
  })

  it('stops a delayed reply when the client aborts, and keeps serving', async () => {
    server.enqueue({ text: 'late', delayMs: 10_000 }, 'next')
    const controller = new AbortController()
    const pending = post('/v1/messages', anthropicBody(), { signal: controller.signal }).catch((e: Error) => e.name)
    await until(() => server.requests.length === 1)
    controller.abort()
    expect(await pending).toBe('AbortError')
    const reply = await json<AnthropicMessage>(await post('/v1/messages', anthropicBody()))
    expect(reply.content[0].text).toBe('next')
  })

  it('is driven over HTTP: queue replies, list requests, reset', async () => {
    await post('/_fake/replies', ['first', { text: 'second' }])
    await post('/v1/chat/completions', openaiBody())
    const second = await json<AnthropicMessage>(await post('/v1/messages', anthropicBody()))
    expect(second.content[0].text).toBe('second')
    const recorded = await json<{ api: string }[]>(await fetch(`${server.url}/_fake/requests`))
    expect(recorded.map((r) => r.api)).toEqual(['openai', 'anthropic'])
    await post('/_fake/reset', {})
    expect(server.requests).toHaveLength(0)
  })
})

describe('standalone CLI', () => {
  it('serves a YAML script: matched entries first, the rest in turn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-llm-'))
    const script = join(dir, 'script.yaml')
    writeFileSync(
      script,
      ['- match: "weather"', '  reply: sunny', '- reply: first', '- reply: { text: second }', ''].join('\n'),
    )
    const port = await closedPort()
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'tests/fake-llm/cli.ts', '--port', String(port), '--script', script],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    try {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
      })
      await until(() => out.includes('listening'))
      const ask = async (text: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: text }] }),
        })
        return (await json<ChatCompletion>(res)).choices[0].message.content
      }
      expect([await ask('hi'), await ask('the weather?'), await ask('hi'), await ask('hi')]).toEqual([
        'first',
        'sunny',
        'second',
        'first',
      ])
    } finally {
      child.kill('SIGTERM')
    }
  })
})
