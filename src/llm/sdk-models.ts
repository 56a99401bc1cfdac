import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import type { LanguageModel } from 'ai'
import { misconfigured } from './errors'
import type { LlmClientSpec } from './spec'

/** The AI SDK model object for a vendor spec. Keys are passed explicitly so the SDK never falls back to env. */
export function sdkModel(spec: LlmClientSpec): LanguageModel {
  switch (spec.type) {
    case 'anthropic':
      if (!spec.apiKey) throw misconfigured(spec, 'no API key given')
      return createAnthropic({ baseURL: spec.baseUrl, apiKey: spec.apiKey })(spec.model)
    case 'openai':
      if (!spec.apiKey) throw misconfigured(spec, 'no API key given')
      // .chat: the Chat Completions API, which every OpenAI-style server and proxy speaks.
      return createOpenAI({ baseURL: spec.baseUrl, apiKey: spec.apiKey }).chat(spec.model)
    case 'openai-compatible':
      if (!spec.baseUrl) throw misconfigured(spec, 'no base URL given')
      return createOpenAICompatible({
        name: spec.name,
        baseURL: spec.baseUrl,
        apiKey: spec.apiKey,
        includeUsage: true,
      }).chatModel(spec.model)
    default:
      throw misconfigured(spec, `provider type ${spec.type} is not served by the AI SDK`)
  }
}
