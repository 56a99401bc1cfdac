/** The one interface the agent sees. Vendors are configuration (see registry.ts). */

export type LlmRole = 'user' | 'assistant'

export interface LlmMessage {
  role: LlmRole
  content: string
}

export interface LlmRequest {
  system?: string
  messages: LlmMessage[]
  maxOutputTokens?: number
  temperature?: number
  /** Stop sequences, e.g. to end generation after a closing code fence. */
  stop?: string[]
  abortSignal?: AbortSignal
  /** When set, the call streams and this receives each text delta as it arrives. */
  onTextDelta?: (delta: string) => void
}

export interface LlmUsage {
  inputTokens: number
  outputTokens: number
}

export interface LlmResponse {
  text: string
  usage: LlmUsage
  latencyMs: number
  /** Provider type, e.g. "anthropic"; "scripted" marks canned replies that no model wrote. */
  provider: string
  /** Registry name of the client that answered, e.g. "default" or "glm". */
  providerName?: string
  model: string
  finishReason: string
}

export interface LlmClient {
  /** Name under which the registry knows this client (e.g. "default", "glm"). */
  readonly name: string
  readonly providerType: string
  readonly model: string
  generate(request: LlmRequest): Promise<LlmResponse>
  /** One line saying what answers, e.g. `scripted replies from config/scripted-demo.yaml (not a model)`. */
  describe?(): string
}
