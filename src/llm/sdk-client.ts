import { generateText, type LanguageModel, type LanguageModelUsage, streamText } from 'ai'
import { callDeadline } from './deadline'
import { type LlmEndpoint, toLlmError } from './errors'
import { sdkModel } from './sdk-models'
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, type LlmClientSpec, VENDOR_BASE_URLS } from './spec'
import type { LlmClient, LlmRequest, LlmResponse } from './types'

/** A real model behind the Vercel AI SDK: generates, or streams when the request has `onTextDelta`. */
export class AiSdkLlmClient implements LlmClient {
  readonly name: string
  readonly providerType: string
  readonly model: string
  private readonly sdk: LanguageModel
  private readonly endpoint: LlmEndpoint
  private readonly timeoutMs: number
  private readonly maxRetries: number

  constructor(spec: LlmClientSpec) {
    this.name = spec.name
    this.providerType = spec.type
    this.model = spec.model
    this.endpoint = {
      name: spec.name,
      type: spec.type,
      model: spec.model,
      baseUrl: spec.baseUrl ?? VENDOR_BASE_URLS[spec.type],
    }
    this.sdk = sdkModel(spec)
    this.timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.maxRetries = spec.maxRetries ?? DEFAULT_MAX_RETRIES
  }

  async generate(request: LlmRequest): Promise<LlmResponse> {
    const deadline = callDeadline(this.timeoutMs, request.abortSignal)
    const started = performance.now()
    const call = {
      model: this.sdk,
      system: request.system,
      messages: request.messages,
      maxOutputTokens: request.maxOutputTokens,
      temperature: request.temperature,
      stopSequences: request.stop,
      maxRetries: this.maxRetries,
      abortSignal: deadline.signal,
    }
    try {
      const { text, usage, finishReason } = request.onTextDelta
        ? await this.stream(call, request.onTextDelta, deadline.signal)
        : await generateText(call)
      return {
        text,
        usage: { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 },
        latencyMs: Math.round(performance.now() - started),
        provider: this.providerType,
        model: this.model,
        finishReason,
      }
    } catch (err) {
      throw toLlmError(err, this.endpoint, deadline.cause(), this.timeoutMs)
    }
  }

  private async stream(
    call: Parameters<typeof streamText>[0],
    onTextDelta: (delta: string) => void,
    signal: AbortSignal,
  ): Promise<{ text: string; usage: LanguageModelUsage; finishReason: string }> {
    // Errors are read from the stream below; the default handler would only print them to stderr.
    const result = streamText({ ...call, onError: () => {} })
    let text = ''
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') {
        text += part.text
        onTextDelta(part.text)
      } else if (part.type === 'error') {
        throw part.error
      } else if (part.type === 'abort') {
        throw signal.reason ?? new Error('stream aborted')
      }
    }
    return { text, usage: await result.usage, finishReason: await result.finishReason }
  }
}
