import { createAiSdkClient } from './ai-sdk-client'
import { type LlmEndpoint, misconfigured } from './errors'
import { createScriptedClient } from './scripted-client'
import { type LlmProviderSpec, VENDOR_BASE_URLS } from './spec'
import type { LlmClient } from './types'

/**
 * One client for a provider spec. A missing key, base URL, model or script file throws an
 * `llm_misconfigured` LlmError naming the setting (and, via `spec.sources`, the variable) to set.
 */
export function createLlmClient(spec: LlmProviderSpec): LlmClient {
  const baseUrl = spec.baseUrl ?? VENDOR_BASE_URLS[spec.type]
  const endpoint: LlmEndpoint = { name: spec.name, type: spec.type, model: spec.model || '(unset)', baseUrl }
  const need = (field: keyof NonNullable<LlmProviderSpec['sources']>, value: string | undefined, what: string) =>
    value ? [] : [spec.sources?.[field] ?? what]
  const missing = [
    ...need('model', spec.model, 'a model'),
    ...(spec.type === 'anthropic' || spec.type === 'openai' ? need('apiKey', spec.apiKey, 'an API key') : []),
    ...(spec.type === 'openai-compatible' ? need('baseUrl', baseUrl, 'a base URL') : []),
    ...(spec.type === 'scripted' ? need('scriptFile', spec.scriptFile, 'a script file') : []),
  ]
  if (missing.length) throw misconfigured(endpoint, `set ${missing.join(' and ')}`)
  if (spec.type === 'scripted') return createScriptedClient({ ...spec, scriptFile: spec.scriptFile as string })
  return createAiSdkClient({ ...spec, baseUrl: baseUrl as string })
}
