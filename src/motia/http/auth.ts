import { createHash, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { ConfigError } from '../../config/errors'
import { loadYamlFile } from '../../config/yaml-file'
import { type HttpResponse, problem } from '../problem'

/** Who is calling: the API key's id and what it may use (undefined = everything). */
export interface Principal {
  keyId: string
  skills?: string[]
  agents?: string[]
}

/** A 401 problem response. */
export type AuthFailure = HttpResponse

export type RequestHeaders = Record<string, string | string[] | undefined>

export const ANONYMOUS: Principal = Object.freeze({ keyId: 'anonymous' })

export const AUTH_OFF_WARNING =
  'No API keys configured (AGENT_API_KEYS / AGENT_API_KEYS_FILE): authentication is OFF; every caller is "anonymous"'

const keyName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'only letters, digits and _ . : - are allowed')

const keysFileSchema = z.object({
  keys: z.array(
    z
      .object({
        id: keyName.refine((id) => id !== ANONYMOUS.keyId, 'the id "anonymous" is reserved'),
        sha256: z
          .string()
          .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (npx tsx src/motia/http/hash-key.ts <key>)'),
        skills: z.array(z.string().min(1)).optional(),
        agents: z.array(z.string().min(1)).optional(),
      })
      .strict(),
  ),
})

interface StoredKey {
  principal: Principal
  digest: Buffer
}

export const sha256Hex = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex')

/** Stable short id of an env key: the first 12 hex characters of its sha256 (safe to log and store). */
export const envKeyId = (key: string): string => sha256Hex(key).slice(0, 12)

function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name]
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined
}

/** The key from `Authorization: Bearer <key>` or, failing that, `x-api-key`. */
export function presentedKey(headers: RequestHeaders): string | undefined {
  const authorization = headerValue(headers, 'authorization')
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1]
  return bearer ?? headerValue(headers, 'x-api-key')
}

function unauthorized(detail: string): AuthFailure {
  const response = problem(401, 'unauthorized', detail)
  return { ...response, headers: { ...response.headers, 'www-authenticate': 'Bearer' } }
}

/**
 * The configured API keys, held only as sha256 digests. A presented key is hashed and compared with
 * every stored digest in constant time, so neither the key nor which key matched leaks through timing.
 */
export class ApiKeyRing {
  private constructor(private readonly keys: StoredKey[]) {}

  /**
   * Keys from AGENT_API_KEYS (plain, unrestricted) plus a YAML keys file of hashed, optionally
   * restricted keys. `requireKeys` (production) turns "no keys at all" into a start-up error.
   */
  static fromConfig(config: { keys: string[]; file?: string; requireKeys?: boolean }): ApiKeyRing {
    const stored: StoredKey[] = config.keys.map((key) => ({
      principal: { keyId: envKeyId(key) },
      digest: createHash('sha256').update(key, 'utf8').digest(),
    }))
    if (config.file) {
      for (const entry of loadYamlFile(config.file, keysFileSchema).keys) {
        stored.push({
          principal: { keyId: entry.id, skills: entry.skills, agents: entry.agents },
          digest: Buffer.from(entry.sha256, 'hex'),
        })
      }
    }
    assertUnique(stored)
    if (config.requireKeys && stored.length === 0) {
      throw new ConfigError(
        'No API keys configured: set AGENT_API_KEYS or AGENT_API_KEYS_FILE (required in production)',
      )
    }
    return new ApiKeyRing(stored)
  }

  /** False only when no key is configured: then every request is the anonymous principal. */
  get enabled(): boolean {
    return this.keys.length > 0
  }

  get size(): number {
    return this.keys.length
  }

  authenticate(headers: RequestHeaders): Principal | AuthFailure {
    if (!this.enabled) return ANONYMOUS
    const key = presentedKey(headers)
    if (!key) return unauthorized('Missing API key: send "Authorization: Bearer <key>" or "x-api-key: <key>"')
    const digest = createHash('sha256').update(key, 'utf8').digest()
    let match: Principal | undefined
    // No early exit: every stored digest is compared, whichever one matches.
    for (const stored of this.keys) {
      if (timingSafeEqual(stored.digest, digest) && !match) match = stored.principal
    }
    return match ?? unauthorized('Invalid API key')
  }
}

function assertUnique(keys: StoredKey[]): void {
  const ids = new Set<string>()
  const digests = new Set<string>()
  for (const { principal, digest } of keys) {
    if (ids.has(principal.keyId)) throw new ConfigError(`API keys: duplicate key id "${principal.keyId}"`)
    if (digests.has(digest.toString('hex')))
      throw new ConfigError(`API keys: key "${principal.keyId}" is configured twice`)
    ids.add(principal.keyId)
    digests.add(digest.toString('hex'))
  }
}

export const isAuthFailure = (value: Principal | AuthFailure): value is AuthFailure => 'status' in value

/**
 * 403 when a key limited to some agents or skills asks for others. Pass the agent that will really
 * run (the default agent's name when the request names none); `skills` undefined means "not narrowed".
 */
export function authorize(principal: Principal, wants: { agent?: string; skills?: string[] }): HttpResponse | null {
  if (principal.agents && wants.agent !== undefined && !principal.agents.includes(wants.agent)) {
    return problem(403, 'forbidden', `This API key may not use agent "${wants.agent}"`)
  }
  const denied = principal.skills ? (wants.skills ?? []).filter((s) => !principal.skills?.includes(s)) : []
  if (denied.length) return problem(403, 'forbidden', `This API key may not use skill(s): ${denied.join(', ')}`)
  return null
}

/** The skills a task may call: what the request asked for, else everything the key may use (undefined = all). */
export function effectiveSkills(principal: Principal, requested?: string[]): string[] | undefined {
  return requested ?? principal.skills
}
