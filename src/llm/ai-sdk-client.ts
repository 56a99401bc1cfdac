import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { generateText, type LanguageModel, type LanguageModelUsage, streamText } from 'ai'
import { type AbortCause, describeEndpoint, type LlmEndpoint, toLlmError } from './errors'
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, type LlmProviderSpec } from './spec'
import type { LlmClient, LlmRequest, LlmResponse } from './types'

/** The AI SDK model for a vendor spec; `.chat()` pins OpenAI to the Chat Completions API. */
function languageModel(spec: LlmProviderSpec & { baseUrl: string }): LanguageModel {
  switch (spec.type) {
    case 'anthropic':
      return createAnthropic({ baseURL: spec.baseUrl, apiKey: spec.apiKey })(spec.model)
    case 'openai':
      return createOpenAI({ baseURL: spec.baseUrl, apiKey: spec.apiKey }).chat(spec.model)
    case 'openai-compatible':
      return createOpenAICompatible({
        name: spec.name,
        baseURL: spec.baseUrl,
        apiKey: spec.apiKey,
        includeUsage: true,
      }).chatModel(spec.model)
    default:
      throw new Error(`not an AI SDK provider type: ${spec.type}`)
  }
}

/** A client over the Vercel AI SDK: generateText, or streamText when the caller wants deltas. */
export function createAiSdkClient(spec: LlmProviderSpec & { baseUrl: string }): LlmClient {
  const model = languageModel(spec)
  const endpoint: LlmEndpoint = { name: spec.name, type: spec.type, model: spec.model, baseUrl: spec.baseUrl }
  const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS
  // The SDK retries 429, 408/409 and 5xx with exponential backoff and honours retry-after headers.
  const maxRetries = spec.maxRetries ?? DEFAULT_MAX_RETRIES

  async function generate(request: LlmRequest): Promise<LlmResponse> {
    const started = performance.now()
    const deadline = AbortSignal.timeout(timeoutMs)
    const caller = request.abortSignal
    const abortSignal = caller ? AbortSignal.any([caller, deadline]) : deadline
    const abortCause = (): AbortCause => (caller?.aborted ? 'cancelled' : deadline.aborted ? 'timeout' : undefined)
    const call = {
      model,
      system: request.system,
      messages: request.messages,
      maxOutputTokens: request.maxOutputTokens,
      temperature: request.temperature,
      stopSequences: request.stop,
      maxRetries,
      abortSignal,
    }
    try {
      if (caller?.aborted) throw caller.reason
      const out = request.onTextDelta ? await streamCall(call, request.onTextDelta) : await generateText(call)
      return {
        text: out.text,
        usage: tokens(out.usage),
        latencyMs: Math.round(performance.now() - started),
        provider: spec.type,
        providerName: spec.name,
        model: spec.model,
        finishReason: out.finishReason,
      }
    } catch (err) {
      throw toLlmError(err, endpoint, abortCause(), timeoutMs)
    }
  }

  return {
    name: spec.name,
    providerType: spec.type,
    model: spec.model,
    generate,
    describe: () => describeEndpoint(endpoint),
  }
}

type CallOptions = Parameters<typeof generateText>[0] & Parameters<typeof streamText>[0]

/** Streams the reply to `onTextDelta`; a stream error or an abort surfaces as a thrown error. */
async function streamCall(call: CallOptions, onTextDelta: (delta: string) => void) {
  // Errors arrive as `error` parts below; the no-op keeps the SDK from also logging them.
  const result = streamText({ ...call, onError: () => {} })
  let text = ''
  let usage: LanguageModelUsage | undefined
  let finishReason = 'unknown'
  for await (const part of result.fullStream) {
    if (part.type === 'text-delta') {
      text += part.text
      onTextDelta(part.text)
    } else if (part.type === 'error') {
      throw part.error
    } else if (part.type === 'abort') {
      throw call.abortSignal?.reason ?? new DOMException('aborted', 'AbortError')
    } else if (part.type === 'finish') {
      usage = part.totalUsage
      finishReason = part.finishReason
    }
  }
  return { text, usage, finishReason }
}

function tokens(usage: LanguageModelUsage | undefined) {
  return { inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0 }
}
