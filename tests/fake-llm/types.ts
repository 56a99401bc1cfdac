/** The contract other suites code against: see startFakeLlmServer in ./server. */

export type FakeApi = 'openai' | 'anthropic'

export interface FakeLlmRequest {
  api: FakeApi
  model: string
  stream: boolean
  system: string
  messages: { role: string; content: string }[]
  lastUserMessage: string
  rawBody: unknown
  headers: Record<string, string>
}

export interface FakeUsage {
  inputTokens: number
  outputTokens: number
}

export type FakeReply =
  | string
  | {
      text?: string
      /** HTTP status; 4xx/5xx answer with the vendor's error body. */
      status?: number
      /** Replaces the vendor-shaped error body. */
      errorBody?: unknown
      /** Waits this long before answering; stops early when the client goes away. */
      delayMs?: number
      /** Streaming only: waits this long between chunks (for cancelling mid-stream). */
      chunkDelayMs?: number
      /** Overrides the deterministic word-count usage. */
      usage?: FakeUsage
      /** Extra response headers; 429/503/529 carry `retry-after: 0` unless this sets another. */
      headers?: Record<string, string>
    }

export type FakeResponder = (req: FakeLlmRequest) => FakeReply | Promise<FakeReply>

export interface FakeLlmServer {
  url: string
  openaiBaseUrl: string
  anthropicBaseUrl: string
  requests: FakeLlmRequest[]
  enqueue(...replies: FakeReply[]): void
  setResponder(fn: FakeResponder): void
  reset(): void
  close(): Promise<void>
}

/** A reply after defaults: what the wire writers need. */
export interface ResolvedReply {
  text: string
  status: number
  errorBody?: unknown
  delayMs: number
  chunkDelayMs: number
  usage: FakeUsage
  headers: Record<string, string>
  finishReason: 'stop' | 'stop_sequence'
  /** The stop sequence that ended the text, as Anthropic reports it. */
  stopSequence: string | null
}
