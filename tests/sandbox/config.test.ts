import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/errors'
import { LocalPythonSandbox } from '../../src/sandbox/adapters/local/adapter'
import { MontySandbox } from '../../src/sandbox/adapters/monty/adapter'
import { loadSandboxConfig } from '../../src/sandbox/config'
import { SandboxRegistry } from '../../src/sandbox/factory'

const dir = mkdtempSync(join(tmpdir(), 'motia-sandbox-config-'))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const env = (SANDBOX_CONFIG_FILE: string, extra: { SANDBOX_TYPE?: string; SANDBOX_PYTHON_PATH?: string } = {}) => ({
  SANDBOX_CONFIG_FILE,
  ...extra,
})

describe('sandbox config', () => {
  const registries: SandboxRegistry[] = []
  afterAll(async () => {
    await Promise.all(registries.map((r) => r.shutdown()))
  })

  it('reads the project file and fills every default', () => {
    const config = loadSandboxConfig(env('config/sandbox.config.yaml'))
    expect(config.default_adapter).toBe('local')
    const local = config.adapters.local
    expect(local.type === 'local' && local.local).toMatchObject({
      pythonPath: 'python3',
      timeout: 30000,
      maxSessions: 10,
    })
    const monty = config.adapters.monty
    expect(monty.type === 'monty' && monty.monty).toMatchObject({ timeout: 5000, maxMemoryBytes: 67108864 })
  })

  it('falls back to built-in defaults when the file is missing', () => {
    const config = loadSandboxConfig(env(join(dir, 'missing.yaml')))
    expect(Object.keys(config.adapters).sort()).toEqual(['local', 'monty'])
  })

  it('lets SANDBOX_TYPE and SANDBOX_PYTHON_PATH override the file', () => {
    const config = loadSandboxConfig(
      env('config/sandbox.config.yaml', { SANDBOX_TYPE: 'monty', SANDBOX_PYTHON_PATH: '/usr/bin/python3' }),
    )
    expect(config.default_adapter).toBe('monty')
    const local = config.adapters.local
    expect(local.type === 'local' && local.local.pythonPath).toBe('/usr/bin/python3')
  })

  it('names the field of a bad value and rejects an unknown SANDBOX_TYPE', () => {
    const bad = file('bad.yaml', 'adapters:\n  local: { type: local, local: { timeout: -5 } }\n')
    expect(() => loadSandboxConfig(env(bad))).toThrow(/adapters\.local\.local\.timeout/)
    expect(() => loadSandboxConfig(env('config/sandbox.config.yaml', { SANDBOX_TYPE: 'docker' }))).toThrow(ConfigError)
    const wrongDefault = file('default.yaml', 'default_adapter: fast\nadapters:\n  local: { type: local }\n')
    expect(() => loadSandboxConfig(env(wrongDefault))).toThrow(/default_adapter "fast"/)
  })

  it('holds one adapter per configured name in the registry', () => {
    const path = file(
      'two.yaml',
      'default_adapter: quick\nadapters:\n  quick: { type: monty }\n  full: { type: local }\n',
    )
    const registry = new SandboxRegistry(loadSandboxConfig(env(path)))
    registries.push(registry)
    expect(registry.get()).toBeInstanceOf(MontySandbox)
    expect(registry.get('quick')).toBe(registry.get())
    expect(registry.get('full')).toBeInstanceOf(LocalPythonSandbox)
    expect(() => registry.get('nope')).toThrow(/unknown sandbox "nope"/)
  })
})
