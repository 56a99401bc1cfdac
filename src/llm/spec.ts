import type { LLM_PROVIDER_TYPES } from '../config/env'

export type LlmProviderType = (typeof LLM_PROVIDER_TYPES)[number]

/** Everything needed to build one client. Keys arrive resolved from env; they are never read from files. */
export interface LlmProviderSpec {
  /** Name under which agents pick it, e.g. "default" or "glm". */
  name: string
  type: LlmProviderType
  model: string
  /** Defaults to the vendor's public API for anthropic and openai; required for openai-compatible. */
  baseUrl?: string
  apiKey?: string
  /** Whole-call deadline, retries included. */
  timeoutMs?: number
  /** Extra attempts on 429, 5xx and connection failures, with exponential backoff (honouring retry-after). */
  maxRetries?: number
  /** Scripted provider only: the YAML file of canned replies. */
  scriptFile?: string
  /** Where each setting comes from (an env variable or a config-file field), named when it is missing. */
  sources?: Partial<Record<'model' | 'baseUrl' | 'apiKey' | 'scriptFile', string>>
}

/** The name the other layers use for the same shape. */
export type LlmClientSpec = LlmProviderSpec

export const DEFAULT_TIMEOUT_MS = 120_000
export const DEFAULT_MAX_RETRIES = 3
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-4-5'
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini'
export const SCRIPTED_MODEL = 'scripted-replies'
export const DEFAULT_SCRIPT_FILE = 'config/scripted-demo.yaml'

/** Where the vendor SDKs send requests when no base URL is set; named in error messages. */
export const VENDOR_BASE_URLS: Partial<Record<LlmProviderType, string>> = {
  anthropic: 'https://api.anthropic.com/v1',
  openai: 'https://api.openai.com/v1',
}
