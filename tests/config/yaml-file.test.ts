import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigError } from '../../src/config/errors'
import { loadYamlFile } from '../../src/config/yaml-file'

const dir = mkdtempSync(join(tmpdir(), 'yaml-file-'))
function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const schema = z.object({
  name: z.string(),
  limits: z.object({ timeoutMs: z.number().int().positive().default(1000) }).default({ timeoutMs: 1000 }),
})

function failure(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('loadYamlFile', () => {
  it('parses and validates a file, applying schema defaults', () => {
    expect(loadYamlFile(file('ok.yaml', 'name: web\n'), schema)).toEqual({ name: 'web', limits: { timeoutMs: 1000 } })
  })

  it('returns the validated fallback for a missing file', () => {
    expect(loadYamlFile(join(dir, 'none.yaml'), schema, { name: 'fallback' })).toEqual({
      name: 'fallback',
      limits: { timeoutMs: 1000 },
    })
  })

  it('reports a missing file when there is no fallback', () => {
    const path = join(dir, 'none.yaml')
    expect(failure(() => loadYamlFile(path, schema)).message).toBe(`${path}: file not found`)
  })

  it('reports broken YAML on one line naming the file', () => {
    const path = file('broken.yaml', 'name: [unclosed\n')
    const { message } = failure(() => loadYamlFile(path, schema))
    expect(message.startsWith(`${path}: not valid YAML: `)).toBe(true)
    expect(message).not.toContain('\n')
  })

  it('names the file and each bad field', () => {
    const path = file('bad.yaml', 'name: 7\nlimits:\n  timeoutMs: -1\n')
    const { message } = failure(() => loadYamlFile(path, schema))
    expect(message).toMatch(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: name: .*; limits\\.timeoutMs: `),
    )
  })

  it('validates an empty file as an empty object', () => {
    const path = file('empty.yaml', '# only a comment\n')
    expect(failure(() => loadYamlFile(path, schema)).message).toMatch(/: name: /)
  })
})
