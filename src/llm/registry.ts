import { type EnvConfig, LLM_PROVIDER_TYPES } from '../config/env'
import { AppError, ConfigError, errorMessage } from '../config/errors'
import { createLlmClient } from './client'
import { LlmError, misconfigured } from './errors'
import {
  defaultProviderSpec,
  detectDefaultType,
  loadLlmFile,
  missingNamedKey,
  namedProviderSpec,
  type SecretSource,
} from './provider-config'
import { type LlmProviderSpec, VENDOR_BASE_URLS } from './spec'
import type { LlmClient } from './types'

export interface LlmProviderStatus {
  name: string
  type: string
  model: string
  baseUrl?: string
  status: 'ready' | 'misconfigured'
  /** Why it cannot be used, naming the variable or file field to set. */
  error?: string
}

export interface LlmRegistry {
  /** The named client, or the default one; throws an LlmError saying what to configure. */
  get(name?: string): LlmClient
  has(name: string): boolean
  names(): string[]
  readonly defaultName: string | undefined
  /** For /ready: each provider's status; `ready` when the default provider can be used, else `reason` says why. */
  describe(): { defaultName: string | undefined; ready: boolean; reason?: string; providers: LlmProviderStatus[] }
}

interface Entry {
  status: LlmProviderStatus
  client?: LlmClient
  error?: LlmError
}

const NO_PROVIDER =
  `No LLM provider is configured: set DEFAULT_LLM_PROVIDER (${LLM_PROVIDER_TYPES.join(' | ')}) with its ` +
  'settings, or just ANTHROPIC_API_KEY, or LLM_BASE_URL and DEFAULT_LLM_MODEL, or OPENAI_API_KEY ' +
  '(DEFAULT_LLM_PROVIDER=scripted replays canned replies without a key)'

/**
 * Every configured provider by name: "default" from the environment, others from the LLM config file.
 * A provider missing a key is recorded, not fatal: the server still starts, `describe()` reports it and
 * `get()` throws the message naming what to set. A broken config file does stop start-up (ConfigError).
 */
export function createLlmRegistry(
  env: EnvConfig,
  secrets: SecretSource = process.env,
  rootDir: string = process.cwd(),
): LlmRegistry {
  const file = loadLlmFile(env, rootDir)
  const entries = new Map<string, Entry>()
  const defaultType = detectDefaultType(env)
  if (defaultType) entries.set('default', build(defaultProviderSpec(env, defaultType, rootDir)))
  for (const [name, entry] of Object.entries(file.providers)) {
    if (name === 'default' && defaultType) {
      throw new ConfigError(`${env.LLM_CONFIG_FILE}: providers.default: the name "default" is taken by the environment`)
    }
    const spec = namedProviderSpec(name, entry, env, secrets, rootDir)
    entries.set(name, build(spec, missingNamedKey(entry, spec)))
  }
  const defaultName = defaultType ? 'default' : (file.default ?? (entries.has('default') ? 'default' : undefined))
  if (defaultName && !entries.has(defaultName)) {
    throw new ConfigError(`${env.LLM_CONFIG_FILE}: default: no provider named "${defaultName}" under providers`)
  }

  const lookup = (name?: string): Entry => {
    const wanted = name === undefined || name === 'default' ? defaultName : name
    if (wanted === undefined) throw new LlmError('llm_misconfigured', NO_PROVIDER)
    const entry = entries.get(wanted)
    if (entry) return entry
    const known = [...entries.keys()].join(', ') || 'none'
    throw new LlmError('llm_unknown_provider', `No LLM provider named "${wanted}" (configured: ${known})`)
  }

  return {
    get(name) {
      const entry = lookup(name)
      if (entry.client) return entry.client
      throw entry.error as LlmError
    },
    has: (name) => entries.has(name) || (name === 'default' && defaultName !== undefined),
    names: () => [...entries.keys()],
    defaultName,
    describe() {
      const providers = [...entries.values()].map((e) => e.status)
      const chosen = defaultName === undefined ? undefined : entries.get(defaultName)
      if (chosen?.client) return { defaultName, ready: true, providers }
      return { defaultName, ready: false, reason: chosen?.error?.message ?? NO_PROVIDER, providers }
    },
  }
}

function build(spec: LlmProviderSpec, missingKey?: string): Entry {
  const baseUrl = spec.baseUrl ?? VENDOR_BASE_URLS[spec.type]
  const status = { name: spec.name, type: spec.type, model: spec.model || '(unset)', baseUrl }
  try {
    if (missingKey) throw misconfigured(status, `set ${missingKey}`)
    return { status: { ...status, status: 'ready' }, client: createLlmClient(spec) }
  } catch (err) {
    // Only configuration problems are recorded; anything else is a bug and should surface.
    if (!(err instanceof AppError)) throw err
    const error = err instanceof LlmError ? err : misconfigured(status, errorMessage(err))
    return { status: { ...status, status: 'misconfigured', error: error.message }, error }
  }
}
