import { z } from 'zod'
import { loadYamlFile } from '../config/yaml-file'
import { callDeadline } from './deadline'
import { describeEndpoint, type LlmEndpoint, LlmError, misconfigured } from './errors'
import { createScriptPlayer } from './script'
import { DEFAULT_TIMEOUT_MS, type LlmClientSpec } from './spec'
import type { LlmClient, LlmRequest, LlmResponse } from './types'

const scriptSchema = z
  .array(
    z.object({
      match: z
        .string()
        .refine((s) => isRegex(s), 'not a valid regular expression')
        .optional(),
      reply: z.string(),
    }),
  )
  .min(1, 'the script needs at least one entry')

function isRegex(source: string): boolean {
  try {
    new RegExp(source)
    return true
  } catch {
    return false
  }
}

// A rough, deterministic token estimate: about four characters per token for English and code.
const estimateTokens = (text: string) => Math.ceil(text.length / 4)

/**
 * Not a model: replays canned replies from a YAML file (demos and tests without an API key).
 * Responses say `provider: 'scripted'` so no one mistakes them for a model's work.
 */
export class ScriptedLlmClient implements LlmClient {
  readonly name: string
  readonly providerType = 'scripted'
  readonly model: string
  private readonly endpoint: LlmEndpoint
  private readonly pick: (lastUserMessage: string) => string | undefined
  private readonly timeoutMs: number

  constructor(spec: LlmClientSpec) {
    this.name = spec.name
    this.model = spec.model
    this.endpoint = { name: spec.name, type: 'scripted', model: spec.model }
    if (!spec.scriptFile) throw misconfigured(this.endpoint, 'no script file given')
    this.pick = createScriptPlayer(loadYamlFile(spec.scriptFile, scriptSchema))
    this.timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  async generate(request: LlmRequest): Promise<LlmResponse> {
    const started = performance.now()
    const deadline = callDeadline(this.timeoutMs, request.abortSignal)
    const lastUser = request.messages.findLast((m) => m.role === 'user')?.content ?? ''
    const scripted = this.pick(lastUser)
    if (scripted === undefined) {
      throw new LlmError('llm_bad_response', `${describeEndpoint(this.endpoint)}: no script entry matches the message`)
    }
    const { text, finishReason } = cutAtStop(scripted, request.stop ?? [])
    for (const piece of request.onTextDelta ? (text.match(/\s*\S+\s*/g) ?? []) : []) {
      if (deadline.signal.aborted) break
      request.onTextDelta?.(piece)
    }
    if (deadline.cause() === 'cancelled') {
      throw new LlmError('llm_cancelled', `${describeEndpoint(this.endpoint)}: call cancelled`)
    }
    const input = (request.system ?? '') + request.messages.map((m) => m.content).join('')
    return {
      text,
      usage: { inputTokens: estimateTokens(input), outputTokens: estimateTokens(text) },
      latencyMs: Math.round(performance.now() - started),
      provider: 'scripted',
      model: this.model,
      finishReason,
    }
  }
}

/** Like a real model, the reply ends before the first stop sequence. */
function cutAtStop(text: string, stops: string[]): { text: string; finishReason: string } {
  const cut = Math.min(...stops.map((s) => text.indexOf(s)).filter((i) => i >= 0))
  return Number.isFinite(cut) ? { text: text.slice(0, cut), finishReason: 'stop' } : { text, finishReason: 'stop' }
}
