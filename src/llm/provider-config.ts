import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { type EnvConfig, LLM_PROVIDER_TYPES } from '../config/env'
import { loadYamlFile } from '../config/yaml-file'
import {
  DEFAULT_ANTHROPIC_MODEL,
  DEFAULT_OPENAI_MODEL,
  DEFAULT_SCRIPT_FILE,
  type LlmProviderSpec,
  type LlmProviderType,
  SCRIPTED_MODEL,
} from './spec'

/** Secrets come from the environment by variable name; the YAML file only says which variable. */
export type SecretSource = Record<string, string | undefined>

const providerSchema = z.strictObject({
  type: z.enum(LLM_PROVIDER_TYPES),
  model: z.string().min(1).optional(),
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, not a key')
    .optional(),
  timeoutMs: z.number().int().min(1).optional(),
  maxRetries: z.number().int().min(0).optional(),
  scriptFile: z.string().min(1).optional(),
})

export const llmFileSchema = z.strictObject({
  /** Which named provider is the default when no DEFAULT_LLM_PROVIDER (nor a vendor key) is set. */
  default: z.string().min(1).optional(),
  providers: z
    .record(z.string().regex(/^[\w.-]+$/, 'provider names use letters, digits, _ . - only'), providerSchema)
    .nullish()
    .transform((p) => p ?? {}),
})

export type LlmFileConfig = z.infer<typeof llmFileSchema>
type ProviderEntry = z.infer<typeof providerSchema>

const KEY_ENV: Record<LlmProviderType, string | undefined> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  'openai-compatible': 'LLM_API_KEY',
  scripted: undefined,
}

const DEFAULT_MODELS: Record<LlmProviderType, string> = {
  anthropic: DEFAULT_ANTHROPIC_MODEL,
  openai: DEFAULT_OPENAI_MODEL,
  'openai-compatible': '',
  scripted: SCRIPTED_MODEL,
}

/** Relative paths in settings are relative to the project root, not to wherever the process started. */
const under = (rootDir: string, path: string | undefined) =>
  path === undefined || isAbsolute(path) ? path : resolve(rootDir, path)

export function loadLlmFile(env: EnvConfig, rootDir: string): LlmFileConfig {
  return loadYamlFile(under(rootDir, env.LLM_CONFIG_FILE) as string, llmFileSchema, {})
}

/** The provider type for "default": DEFAULT_LLM_PROVIDER, else the first vendor whose key or URL is set. */
export function detectDefaultType(env: EnvConfig): LlmProviderType | undefined {
  if (env.DEFAULT_LLM_PROVIDER) return env.DEFAULT_LLM_PROVIDER
  if (env.ANTHROPIC_API_KEY) return 'anthropic'
  if (env.LLM_BASE_URL) return 'openai-compatible'
  if (env.OPENAI_API_KEY) return 'openai'
  return undefined
}

/** Provider "default", from DEFAULT_LLM_MODEL and the vendor variables of its type. */
export function defaultProviderSpec(env: EnvConfig, type: LlmProviderType, rootDir: string): LlmProviderSpec {
  const spec: LlmProviderSpec = {
    name: 'default',
    type,
    model: env.DEFAULT_LLM_MODEL ?? DEFAULT_MODELS[type],
    timeoutMs: env.LLM_TIMEOUT_MS,
    maxRetries: env.LLM_MAX_RETRIES,
    sources: { model: 'DEFAULT_LLM_MODEL' },
  }
  switch (type) {
    case 'anthropic':
      return { ...spec, apiKey: env.ANTHROPIC_API_KEY, baseUrl: env.ANTHROPIC_BASE_URL, sources: envSources(type) }
    case 'openai':
      return { ...spec, apiKey: env.OPENAI_API_KEY, baseUrl: env.OPENAI_BASE_URL, sources: envSources(type) }
    case 'openai-compatible':
      return { ...spec, apiKey: env.LLM_API_KEY, baseUrl: env.LLM_BASE_URL, sources: envSources(type) }
    case 'scripted':
      return {
        ...spec,
        scriptFile: under(rootDir, env.LLM_SCRIPT_FILE ?? DEFAULT_SCRIPT_FILE),
        sources: envSources(type),
      }
  }
}

function envSources(type: LlmProviderType): LlmProviderSpec['sources'] {
  const baseUrl = { anthropic: 'ANTHROPIC_BASE_URL', openai: 'OPENAI_BASE_URL', 'openai-compatible': 'LLM_BASE_URL' }
  return {
    model: 'DEFAULT_LLM_MODEL',
    apiKey: KEY_ENV[type],
    baseUrl: type === 'scripted' ? undefined : baseUrl[type],
    scriptFile: 'LLM_SCRIPT_FILE',
  }
}

/**
 * A named provider of the LLM config file. Its key comes from the variable `apiKeyEnv` names (else the
 * vendor's usual one); its base URL from the file (else the vendor's usual variable, for anthropic and openai).
 */
export function namedProviderSpec(
  name: string,
  entry: ProviderEntry,
  env: EnvConfig,
  secrets: SecretSource,
  rootDir: string,
): LlmProviderSpec {
  const field = (f: string) => `${env.LLM_CONFIG_FILE} providers.${name}.${f}`
  const keyEnv = entry.apiKeyEnv ?? KEY_ENV[entry.type]
  const vendorBaseUrl = { anthropic: env.ANTHROPIC_BASE_URL, openai: env.OPENAI_BASE_URL }
  const spec: LlmProviderSpec = {
    name,
    type: entry.type,
    model: entry.model ?? DEFAULT_MODELS[entry.type],
    baseUrl: entry.baseUrl ?? (entry.type in vendorBaseUrl ? vendorBaseUrl[entry.type as 'openai'] : undefined),
    apiKey: keyEnv ? secrets[keyEnv]?.trim() || undefined : undefined,
    timeoutMs: entry.timeoutMs ?? env.LLM_TIMEOUT_MS,
    maxRetries: entry.maxRetries ?? env.LLM_MAX_RETRIES,
    scriptFile: under(rootDir, entry.scriptFile),
    sources: {
      model: field('model'),
      baseUrl: field('baseUrl'),
      apiKey: entry.apiKeyEnv ? `${keyEnv} (named by ${field('apiKeyEnv')})` : keyEnv,
      scriptFile: field('scriptFile'),
    },
  }
  return spec
}

/** Local OpenAI-compatible servers (Ollama, vLLM) need no key; one named in the file must be set. */
export function missingNamedKey(entry: ProviderEntry, spec: LlmProviderSpec): string | undefined {
  return entry.type === 'openai-compatible' && entry.apiKeyEnv && !spec.apiKey ? spec.sources?.apiKey : undefined
}
