import { ScriptedLlmClient } from './scripted'
import { AiSdkLlmClient } from './sdk-client'
import type { LlmClientSpec } from './spec'
import type { LlmClient } from './types'

/** One client for a provider spec. Throws an `llm_misconfigured` LlmError when a required setting is missing. */
export function createLlmClient(spec: LlmClientSpec): LlmClient {
  return spec.type === 'scripted' ? new ScriptedLlmClient(spec) : new AiSdkLlmClient(spec)
}
