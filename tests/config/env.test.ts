import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { envSchema, loadEnv } from '../../src/config/env'
import { ConfigError } from '../../src/config/errors'

function failure(vars: Record<string, string>): ConfigError {
  try {
    loadEnv(vars)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected loadEnv to throw')
}

describe('loadEnv', () => {
  it('fills defaults when nothing is set', () => {
    const env = loadEnv({})
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      LLM_TIMEOUT_MS: 120_000,
      LLM_MAX_RETRIES: 3,
      LLM_CONFIG_FILE: 'config/llm.yaml',
      SANDBOX_CONFIG_FILE: 'config/sandbox.config.yaml',
      AGENTS_CONFIG_FILE: 'config/agents.yaml',
      WORKSPACE_DIR: './workspace',
      AGENT_API_KEYS: [],
      AGENT_CONCURRENCY: 4,
      LOG_LEVEL: 'info',
    })
    expect(env.DEFAULT_LLM_PROVIDER).toBeUndefined()
    expect(env.REDIS_URL).toBeUndefined()
  })

  it('treats empty values (as in a copied .env.example) as unset', () => {
    const env = loadEnv({ PORT: '', DEFAULT_LLM_PROVIDER: '', LLM_BASE_URL: '  ', REDIS_URL: '', LOG_LEVEL: '' })
    expect(env).toMatchObject({
      PORT: 3000,
      DEFAULT_LLM_PROVIDER: undefined,
      LLM_BASE_URL: undefined,
      LOG_LEVEL: 'info',
    })
  })

  it('parses numbers, lists and the provider choice', () => {
    const env = loadEnv({
      PORT: '8080',
      LLM_MAX_RETRIES: '0',
      DEFAULT_LLM_PROVIDER: 'openai-compatible',
      LLM_BASE_URL: 'http://localhost:11434/v1',
      AGENT_API_KEYS: ' key-a, key-b ,,',
    })
    expect(env).toMatchObject({
      PORT: 8080,
      LLM_MAX_RETRIES: 0,
      DEFAULT_LLM_PROVIDER: 'openai-compatible',
      LLM_BASE_URL: 'http://localhost:11434/v1',
      AGENT_API_KEYS: ['key-a', 'key-b'],
    })
  })

  it.each([
    [
      { DEFAULT_LLM_PROVIDER: 'gemini' },
      'DEFAULT_LLM_PROVIDER',
      /allowed: anthropic, openai-compatible, openai, scripted/,
    ],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /allowed: trace, debug, info, warn, error, fatal/],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV', /allowed: development, production, test/],
    [{ PORT: 'eighty' }, 'PORT', /number/i],
    [{ PORT: '0' }, 'PORT', />=\s?1/],
    [{ LLM_MAX_RETRIES: '-1' }, 'LLM_MAX_RETRIES', />=\s?0/],
    [{ LLM_TIMEOUT_MS: '1.5' }, 'LLM_TIMEOUT_MS', /int/i],
    [{ LLM_BASE_URL: 'localhost:11434' }, 'LLM_BASE_URL', /must be an http:\/\/ or https:\/\/ URL/],
    [{ ANTHROPIC_BASE_URL: 'not a url' }, 'ANTHROPIC_BASE_URL', /http/],
    [{ OPENAI_BASE_URL: 'ftp://files.example.com' }, 'OPENAI_BASE_URL', /must be an http/],
    [{ REDIS_URL: '::' }, 'REDIS_URL', /url/i],
  ])('stops on %o with one line naming the variable and what is allowed', (vars, name, allowed) => {
    const err = failure(vars)
    expect(err.code).toBe('config_invalid')
    expect(err.message.startsWith(`Invalid environment variable ${name}: `)).toBe(true)
    expect(err.message).toMatch(allowed)
    expect(err.message).not.toContain('\n')
    expect(err.details).toEqual({ variable: name })
  })
})

describe('.env.example', () => {
  const example = readFileSync('.env.example', 'utf8')
  const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]))

  it('lists every variable the service reads', () => {
    const missing = Object.keys(envSchema.shape).filter((name) => !listed.has(name))
    expect(missing).toEqual([])
  })

  it('parses as it stands: its values are valid', () => {
    const values = Object.fromEntries(
      [...example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2].trim()]),
    )
    expect(() => loadEnv(values)).not.toThrow()
  })
})

describe('PORT and Workbench', () => {
  it('refuses a port whose Workbench HMR socket would be past 65535, unless Workbench is off', () => {
    expect(() => loadEnv({ PORT: '50000' })).toThrow(/^Invalid environment variable PORT: at most 43857/)
    expect(loadEnv({ PORT: '50000', MOTIA_DOCKER_DISABLE_WORKBENCH: '1' }).PORT).toBe(50000)
    expect(loadEnv({ PORT: '43857' }).PORT).toBe(43857)
  })
})
