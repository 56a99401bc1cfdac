import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadEnv } from '../../src/config/env'
import { ConfigError } from '../../src/config/errors'
import { createLlmRegistry, LlmError } from '../../src/llm'
import { type FakeLlmServer, startFakeLlmServer } from '../fake-llm/server'

let server: FakeLlmServer
beforeAll(async () => {
  server = await startFakeLlmServer({ responder: (req) => `hi from ${req.model}` })
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const dir = mkdtempSync(join(tmpdir(), 'llm-registry-'))
const NO_FILE = join(dir, 'absent.yaml')
let fileCount = 0
function llmYaml(text: string): string {
  const path = join(dir, `llm-${++fileCount}.yaml`)
  writeFileSync(path, text)
  return path
}

const registry = (vars: Record<string, string>, secrets: Record<string, string> = {}) =>
  createLlmRegistry(loadEnv({ LLM_CONFIG_FILE: NO_FILE, ...vars }), secrets)

const ask = { messages: [{ role: 'user' as const, content: 'hello' }] }

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

describe('the default provider from the environment', () => {
  it('has none when nothing is set, and get() says which variables to set', () => {
    const llm = registry({})
    expect(llm.defaultName).toBeUndefined()
    expect(llm.names()).toEqual([])
    const err = thrown(() => llm.get())
    expect(llm.describe()).toEqual({ defaultName: undefined, ready: false, reason: err.message, providers: [] })
    expect(err).toBeInstanceOf(LlmError)
    expect((err as LlmError).code).toBe('llm_misconfigured')
    expect(err.message).toMatch(/set DEFAULT_LLM_PROVIDER \(anthropic \| openai-compatible \| openai \| scripted\)/)
    expect(err.message).toContain('ANTHROPIC_API_KEY')
  })

  it('picks anthropic from ANTHROPIC_API_KEY, with claude-sonnet-4-5 by default', async () => {
    const llm = registry({
      ANTHROPIC_API_KEY: 'ak',
      ANTHROPIC_BASE_URL: server.anthropicBaseUrl,
      LLM_BASE_URL: server.url,
    })
    const client = llm.get()
    expect([client.name, client.providerType, client.model]).toEqual(['default', 'anthropic', 'claude-sonnet-4-5'])
    expect((await client.generate(ask)).text).toBe('hi from claude-sonnet-4-5')
    expect(server.requests[0]).toMatchObject({ api: 'anthropic', headers: { 'x-api-key': 'ak' } })
  })

  it('picks openai-compatible from LLM_BASE_URL, with DEFAULT_LLM_MODEL and LLM_API_KEY', async () => {
    const llm = registry({
      LLM_BASE_URL: server.openaiBaseUrl,
      DEFAULT_LLM_MODEL: 'glm-4',
      LLM_API_KEY: 'glm-key',
      OPENAI_API_KEY: 'ignored',
    })
    expect(llm.get().providerType).toBe('openai-compatible')
    expect((await llm.get('default').generate(ask)).text).toBe('hi from glm-4')
    expect(server.requests[0]).toMatchObject({ api: 'openai', headers: { authorization: 'Bearer glm-key' } })
  })

  it('picks openai from OPENAI_API_KEY, honouring OPENAI_BASE_URL', async () => {
    const llm = registry({ OPENAI_API_KEY: 'ok', OPENAI_BASE_URL: server.openaiBaseUrl })
    expect(llm.get().model).toBe('gpt-4o-mini')
    expect((await llm.get().generate(ask)).text).toBe('hi from gpt-4o-mini')
    expect(server.requests[0].headers.authorization).toBe('Bearer ok')
  })

  it('lets DEFAULT_LLM_PROVIDER override the detection', () => {
    const llm = registry({
      DEFAULT_LLM_PROVIDER: 'openai-compatible',
      DEFAULT_LLM_MODEL: 'deepseek-chat',
      ANTHROPIC_API_KEY: 'ak',
      LLM_BASE_URL: server.openaiBaseUrl,
    })
    expect([llm.get().providerType, llm.get().model]).toEqual(['openai-compatible', 'deepseek-chat'])
  })

  it('records a missing key without failing start-up, and get() names the variable', () => {
    const llm = registry({ DEFAULT_LLM_PROVIDER: 'anthropic' })
    const message =
      'LLM provider "default" (anthropic, model claude-sonnet-4-5, base URL https://api.anthropic.com/v1) ' +
      'is misconfigured: set ANTHROPIC_API_KEY'
    expect(llm.describe()).toEqual({
      defaultName: 'default',
      ready: false,
      reason: message,
      providers: [
        {
          name: 'default',
          type: 'anthropic',
          model: 'claude-sonnet-4-5',
          baseUrl: 'https://api.anthropic.com/v1',
          status: 'misconfigured',
          error: message,
        },
      ],
    })
    const err = thrown(() => llm.get()) as LlmError
    expect([err.code, err.message]).toEqual(['llm_misconfigured', message])
  })

  it('names every missing setting of an openai-compatible default at once', () => {
    const err = thrown(() => registry({ DEFAULT_LLM_PROVIDER: 'openai-compatible' }).get())
    expect(err.message).toBe(
      'LLM provider "default" (openai-compatible, model (unset)) is misconfigured: set DEFAULT_LLM_MODEL and LLM_BASE_URL',
    )
  })

  it('applies LLM_MAX_RETRIES to every call', async () => {
    const llm = registry({ LLM_BASE_URL: server.openaiBaseUrl, DEFAULT_LLM_MODEL: 'm', LLM_MAX_RETRIES: '0' })
    server.enqueue({ status: 503 })
    await expect(llm.get().generate(ask)).rejects.toMatchObject({ code: 'llm_http_error' })
    expect(server.requests).toHaveLength(1)
  })
})

describe('named providers from the LLM config file', () => {
  const file = () =>
    llmYaml(`
providers:
  glm:
    type: openai-compatible
    model: glm-4-plus
    baseUrl: ${server.openaiBaseUrl}
    apiKeyEnv: GLM_API_KEY
    maxRetries: 1
  ollama:
    type: openai-compatible
    model: qwen2.5-coder
    baseUrl: ${server.openaiBaseUrl}
  claude:
    type: anthropic
    model: claude-opus-4-1
    baseUrl: ${server.anthropicBaseUrl}
`)

  it('builds each one next to the default, with the key read from the variable it names', async () => {
    const llm = registry(
      { LLM_CONFIG_FILE: file(), ANTHROPIC_API_KEY: 'ak', ANTHROPIC_BASE_URL: server.anthropicBaseUrl },
      { GLM_API_KEY: 'glm-secret', ANTHROPIC_API_KEY: 'ak' },
    )
    expect(llm.names()).toEqual(['default', 'glm', 'ollama', 'claude'])
    expect(llm.has('glm')).toBe(true)
    expect(llm.has('gpt')).toBe(false)

    server.enqueue({ status: 429 }, 'from glm')
    const reply = await llm.get('glm').generate(ask)
    expect([reply.text, reply.providerName, reply.model]).toEqual(['from glm', 'glm', 'glm-4-plus'])
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer glm-secret', 'Bearer glm-secret'])

    expect((await llm.get('ollama').generate(ask)).text).toBe('hi from qwen2.5-coder')
    expect(server.requests[2].headers.authorization).toBeUndefined()
    expect((await llm.get('claude').generate(ask)).text).toBe('hi from claude-opus-4-1')
    expect(server.requests[3].headers['x-api-key']).toBe('ak')
  })

  it('marks only the provider whose key is missing, naming the variable and the file field', () => {
    const path = file()
    const llm = registry({ LLM_CONFIG_FILE: path }, {})
    expect(llm.defaultName).toBeUndefined()
    const status = Object.fromEntries(llm.describe().providers.map((p) => [p.name, p.status]))
    expect(status).toEqual({ glm: 'misconfigured', ollama: 'ready', claude: 'misconfigured' })
    expect(thrown(() => llm.get('glm')).message).toBe(
      `LLM provider "glm" (openai-compatible, model glm-4-plus, base URL ${server.openaiBaseUrl}) is misconfigured: ` +
        `set GLM_API_KEY (named by ${path} providers.glm.apiKeyEnv)`,
    )
    expect(thrown(() => llm.get('claude')).message).toMatch(/is misconfigured: set ANTHROPIC_API_KEY$/)
    expect(llm.get('ollama').model).toBe('qwen2.5-coder')
  })

  it('uses the file default when the environment names none', () => {
    const path = llmYaml(
      `default: local\nproviders:\n  local:\n    type: openai-compatible\n    model: llama3\n    baseUrl: http://127.0.0.1:11434/v1\n`,
    )
    const llm = registry({ LLM_CONFIG_FILE: path })
    expect(llm.defaultName).toBe('local')
    expect(llm.get().name).toBe('local')
    expect(llm.get('default').name).toBe('local')
    expect(llm.describe().ready).toBe(true)
  })

  it('throws llm_unknown_provider for a name nobody configured', () => {
    const err = thrown(() => registry({ ANTHROPIC_API_KEY: 'k' }).get('glm')) as LlmError
    expect([err.code, err.message]).toEqual([
      'llm_unknown_provider',
      'No LLM provider named "glm" (configured: default)',
    ])
  })

  it.each([
    ['providers:\n  glm:\n    type: gemini\n', /providers\.glm\.type: /],
    ['providers:\n  glm:\n    type: openai\n    apiKey: sk-live-123\n', /providers\.glm: .*apiKey/],
    [
      'providers:\n  glm:\n    type: openai\n    apiKeyEnv: sk-live-123\n',
      /providers\.glm\.apiKeyEnv: must be the name of an environment variable/,
    ],
    [
      'providers:\n  glm:\n    type: openai-compatible\n    baseUrl: localhost:11434\n',
      /providers\.glm\.baseUrl: must be an http:\/\/ or https:\/\/ URL/,
    ],
    ['providers:\n  glm:\n    type: openai\n    timeoutMs: -5\n', /providers\.glm\.timeoutMs: /],
    ['default: nope\nproviders: {}\n', /default: no provider named "nope"/],
    ['providers: [\n', /not valid YAML/],
  ])('stops start-up on a bad file, naming the file and the field (%#)', (text, message) => {
    const path = llmYaml(text)
    const err = thrown(() => registry({ LLM_CONFIG_FILE: path }))
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.message.startsWith(`${path}: `)).toBe(true)
    expect(err.message).toMatch(message)
    expect(err.message).not.toContain('\n')
  })

  it('reads relative paths (config file, script files) from the given project root', async () => {
    const root = mkdtempSync(join(tmpdir(), 'llm-root-'))
    mkdirSync(join(root, 'conf'))
    writeFileSync(
      join(root, 'conf', 'llm.yaml'),
      'providers:\n  demo:\n    type: scripted\n    scriptFile: conf/demo.yaml\n',
    )
    writeFileSync(join(root, 'conf', 'demo.yaml'), '- reply: from the root\n')
    const llm = createLlmRegistry(loadEnv({ LLM_CONFIG_FILE: 'conf/llm.yaml' }), {}, root)
    expect((await llm.get('demo').generate(ask)).text).toBe('from the root')
  })

  it('accepts the committed config/llm.yaml, which holds only commented examples', () => {
    const llm = registry({ LLM_CONFIG_FILE: 'config/llm.yaml' })
    expect(llm.names()).toEqual([])
  })
})

describe('scripted default', () => {
  it('replays config/scripted-demo.yaml when DEFAULT_LLM_PROVIDER=scripted and no script file is set', async () => {
    const llm = registry({ DEFAULT_LLM_PROVIDER: 'scripted' })
    expect(llm.describe().ready).toBe(true)
    const reply = await llm.get().generate({ messages: [{ role: 'user', content: '## Task\nWhat is Motia?' }] })
    expect(reply.provider).toBe('scripted')
    expect(reply.text).toContain('web_search("motia framework"')
  })

  it('records a missing script file as misconfigured, naming LLM_SCRIPT_FILE', () => {
    const llm = registry({ DEFAULT_LLM_PROVIDER: 'scripted', LLM_SCRIPT_FILE: join(dir, 'none.yaml') })
    expect(llm.describe().providers[0].status).toBe('misconfigured')
    expect(thrown(() => llm.get()).message).toMatch(/none\.yaml: file not found \(set LLM_SCRIPT_FILE\)/)
  })
})
