import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createLlmClient, LlmError } from '../../src/llm'

const dir = mkdtempSync(join(tmpdir(), 'llm-scripted-'))
let count = 0
function script(text: string): string {
  const path = join(dir, `script-${++count}.yaml`)
  writeFileSync(path, text)
  return path
}
const scripted = (scriptFile: string) =>
  createLlmClient({ name: 'demo', type: 'scripted', model: 'scripted-replies', scriptFile })
const say = (content: string) => ({ messages: [{ role: 'user' as const, content }] })

const SCRIPT = `
- match: "weather in (Paris|Rome)"
  reply: "It is sunny."
- reply: first
- match: "^stop$"
  reply: stopping
- reply: second
`

describe('scripted provider', () => {
  it('answers matching entries first, the others in turn, starting over after the last', async () => {
    const client = scripted(script(SCRIPT))
    const replies = []
    for (const message of ['hello', 'Weather in Rome?', 'again', 'STOP', 'once more']) {
      replies.push((await client.generate(say(message))).text)
    }
    expect(replies).toEqual(['first', 'It is sunny.', 'second', 'stopping', 'first'])
  })

  it('matches the last user message only', async () => {
    const client = scripted(script(SCRIPT))
    const reply = await client.generate({
      messages: [
        { role: 'user', content: 'weather in Paris' },
        { role: 'assistant', content: 'checking' },
        { role: 'user', content: 'thanks' },
      ],
    })
    expect(reply.text).toBe('first')
  })

  it('labels itself as not a model and estimates usage at four characters a token', async () => {
    const client = scripted(script(SCRIPT))
    expect(client.providerType).toBe('scripted')
    expect(client.describe?.()).toMatch(/scripted replies from .*script-\d+\.yaml \(not a model\)/)
    const reply = await client.generate({ system: 'abcd', messages: [{ role: 'user', content: 'efghijkl' }] })
    expect(reply).toMatchObject({
      provider: 'scripted',
      providerName: 'demo',
      model: 'scripted-replies',
      text: 'first',
    })
    // "abcd\nefghijkl" is 13 characters -> 4 tokens; "first" is 5 characters -> 2 tokens.
    expect(reply.usage).toEqual({ inputTokens: 4, outputTokens: 2 })
  })

  it('streams a reply in pieces that join to the whole text', async () => {
    const client = scripted(script('- reply: "line one\\nline two\\nline three"\n'))
    const deltas: string[] = []
    const reply = await client.generate({ ...say('go'), onTextDelta: (d) => deltas.push(d) })
    expect(deltas).toEqual(['line one\n', 'line two\n', 'line three'])
    expect(deltas.join('')).toBe(reply.text)
  })

  it('ends the reply before the first stop sequence, like a model', async () => {
    const client = scripted(script('- reply: "```python\\nx = 1\\n```\\nDone."\n'))
    const deltas: string[] = []
    const reply = await client.generate({ ...say('go'), stop: ['Done', '\n```\n'], onTextDelta: (d) => deltas.push(d) })
    expect(reply.text).toBe('```python\nx = 1')
    expect(deltas.join('')).toBe(reply.text)
  })

  it('stops a stream when the caller cancels', async () => {
    const client = scripted(script('- reply: "a\\nb\\nc\\nd"\n'))
    const controller = new AbortController()
    const deltas: string[] = []
    const pending = client.generate({
      ...say('go'),
      abortSignal: controller.signal,
      onTextDelta: (d) => {
        deltas.push(d)
        controller.abort()
      },
    })
    await expect(pending).rejects.toMatchObject({ code: 'llm_cancelled' })
    expect(deltas).toEqual(['a\n'])
  })

  it('fails with llm_bad_response when nothing matches and there is no sequence', async () => {
    const client = scripted(script('- match: "^yes$"\n  reply: ok\n'))
    await expect(client.generate(say('no'))).rejects.toMatchObject({
      code: 'llm_bad_response',
      message: expect.stringContaining('no entry matches the message "no"'),
    })
  })

  it.each([
    ['- match: "("\n  reply: x\n', /0\.match: not a valid regular expression/],
    ['- reply: 42\n', /0\.reply: /],
    ['[]\n', /at least one entry/],
  ])('refuses a bad script, naming the file and the entry (%#)', (text, message) => {
    const path = script(text)
    const build = () => scripted(path)
    expect(build).toThrow(LlmError)
    expect(build).toThrow(message)
    expect(build).toThrow(path)
  })
})

describe('config/scripted-demo.yaml', () => {
  const entries = parse(readFileSync('config/scripted-demo.yaml', 'utf8')) as { match?: string; reply: string }[]

  it('holds only programs in our protocol: one python block ending with final_answer', () => {
    expect(entries.length).toBeGreaterThan(0)
    for (const { reply } of entries) {
      const blocks = reply.match(/```python\n[\s\S]*?```/g) ?? []
      expect(blocks).toHaveLength(1)
      expect(blocks[0]).toMatch(/final_answer\(/)
    }
  })

  it('answers a new task with a web search program, and repairs with an answer', async () => {
    const client = scripted('config/scripted-demo.yaml')
    const first = await client.generate(say('## Task\nTell me about the Motia framework'))
    expect(first.text).toContain('web_search("motia framework"')
    const repair = await client.generate(say('The program failed.\nError:\n```\nNameError\n```'))
    expect(repair.text).toContain('final_answer(')
    expect(repair.text).not.toContain('web_search')
  })
})
