import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/errors'
import {
  ApiKeyRing,
  authorize,
  effectiveSkills,
  envKeyId,
  isAuthFailure,
  type Principal,
  sha256Hex,
} from '../../src/motia/http/auth'
import type { HttpResponse } from '../../src/motia/problem'

const detailOf = (response: HttpResponse | null) => (response?.body as { detail?: string } | undefined)?.detail

const dir = mkdtempSync(join(tmpdir(), 'auth-test-'))

function keysFile(content: string): string {
  const path = join(dir, `keys-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(path, content)
  return path
}

const restrictedFile = () =>
  keysFile(`keys:
  - id: research-team
    sha256: ${sha256Hex('file-key-1')}
    skills: [web-search, summarize]
    agents: [researcher]
  - id: ops
    sha256: ${sha256Hex('file-key-2').toUpperCase()}
`)

const principalOf = (ring: ApiKeyRing, headers: Record<string, string>): Principal => {
  const result = ring.authenticate(headers)
  if (isAuthFailure(result)) throw new Error(`expected a principal, got ${result.status}`)
  return result
}

describe('ApiKeyRing.authenticate', () => {
  const ring = ApiKeyRing.fromConfig({ keys: ['env-key-a', 'env-key-b'], file: restrictedFile() })

  it('accepts a key as a Bearer token or as x-api-key, naming it by a stable id', () => {
    expect(ring.enabled).toBe(true)
    expect(ring.size).toBe(4)
    expect(principalOf(ring, { authorization: 'Bearer env-key-a' })).toEqual({ keyId: envKeyId('env-key-a') })
    expect(principalOf(ring, { authorization: 'bearer env-key-b' }).keyId).toBe(sha256Hex('env-key-b').slice(0, 12))
    expect(principalOf(ring, { 'x-api-key': 'env-key-a' }).keyId).toBe(envKeyId('env-key-a'))
  })

  it('gives file keys their id and limits, whatever the case of the stored hash', () => {
    expect(principalOf(ring, { authorization: 'Bearer file-key-1' })).toEqual({
      keyId: 'research-team',
      skills: ['web-search', 'summarize'],
      agents: ['researcher'],
    })
    expect(principalOf(ring, { 'x-api-key': 'file-key-2' }).keyId).toBe('ops')
  })

  it('answers 401 with a problem and WWW-Authenticate for a missing key', () => {
    const result = ring.authenticate({})
    expect(isAuthFailure(result)).toBe(true)
    expect(result).toMatchObject({
      status: 401,
      headers: { 'content-type': 'application/problem+json', 'www-authenticate': 'Bearer' },
      body: { status: 401, code: 'unauthorized' },
    })
    expect(ring.authenticate({ authorization: 'Basic abc' })).toMatchObject({ status: 401 })
  })

  it('answers 401 for a wrong key, including a near miss and the stored hash itself', () => {
    for (const bad of ['env-key-c', 'env-key-A', 'env-key-', 'env-key-aa', sha256Hex('env-key-a')]) {
      const result = ring.authenticate({ 'x-api-key': bad })
      expect(result).toMatchObject({ status: 401, body: { code: 'unauthorized', detail: 'Invalid API key' } })
    }
  })

  it('is off only with no keys at all, and then everyone is the anonymous principal', () => {
    const open = ApiKeyRing.fromConfig({ keys: [] })
    expect(open.enabled).toBe(false)
    expect(open.authenticate({})).toEqual({ keyId: 'anonymous' })
    expect(open.authenticate({ authorization: 'Bearer whatever' })).toEqual({ keyId: 'anonymous' })
  })
})

describe('ApiKeyRing.fromConfig', () => {
  it('refuses to start without keys when keys are required (production)', () => {
    expect(() => ApiKeyRing.fromConfig({ keys: [], requireKeys: true })).toThrow(ConfigError)
    expect(ApiKeyRing.fromConfig({ keys: ['k'], requireKeys: true }).enabled).toBe(true)
  })

  it('names the file and the field of a bad keys file', () => {
    const bad = keysFile('keys:\n  - id: x\n    sha256: not-a-hash\n')
    expect(() => ApiKeyRing.fromConfig({ keys: [], file: bad })).toThrow(/sha256.*64 hex/)
    const unknownField = keysFile(`keys:\n  - id: x\n    sha256: ${sha256Hex('k')}\n    key: plain-text\n`)
    expect(() => ApiKeyRing.fromConfig({ keys: [], file: unknownField })).toThrow(ConfigError)
    expect(() => ApiKeyRing.fromConfig({ keys: [], file: join(dir, 'missing.yaml') })).toThrow(/file not found/)
  })

  it('rejects duplicate ids, a key configured twice, and the reserved id "anonymous"', () => {
    const dupId = keysFile(
      `keys:\n  - id: a\n    sha256: ${sha256Hex('1')}\n  - id: a\n    sha256: ${sha256Hex('2')}\n`,
    )
    expect(() => ApiKeyRing.fromConfig({ keys: [], file: dupId })).toThrow(/duplicate key id "a"/)
    const sameKey = keysFile(`keys:\n  - id: a\n    sha256: ${sha256Hex('env')}\n`)
    expect(() => ApiKeyRing.fromConfig({ keys: ['env'], file: sameKey })).toThrow(/configured twice/)
    const reserved = keysFile(`keys:\n  - id: anonymous\n    sha256: ${sha256Hex('1')}\n`)
    expect(() => ApiKeyRing.fromConfig({ keys: [], file: reserved })).toThrow(/reserved/)
  })
})

describe('authorize', () => {
  const limited: Principal = { keyId: 'research-team', skills: ['web-search', 'summarize'], agents: ['researcher'] }

  it('lets an unrestricted key use anything', () => {
    expect(authorize({ keyId: 'k' }, { agent: 'master', skills: ['code-analysis'] })).toBeNull()
  })

  it('lets a restricted key use what it is allowed', () => {
    expect(authorize(limited, { agent: 'researcher', skills: ['summarize'] })).toBeNull()
    expect(authorize(limited, {})).toBeNull()
  })

  it('answers 403 for another agent or another skill, naming it', () => {
    expect(authorize(limited, { agent: 'master' })).toMatchObject({
      status: 403,
      body: { code: 'forbidden', detail: 'This API key may not use agent "master"' },
    })
    const denied = authorize(limited, { agent: 'researcher', skills: ['summarize', 'code-analysis', 'shell'] })
    expect(denied).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    expect(detailOf(denied)).toContain('code-analysis, shell')
  })

  it("narrows a task that names no skills to the key's skills", () => {
    expect(effectiveSkills(limited)).toEqual(['web-search', 'summarize'])
    expect(effectiveSkills(limited, ['summarize'])).toEqual(['summarize'])
    expect(effectiveSkills({ keyId: 'k' })).toBeUndefined()
  })
})
