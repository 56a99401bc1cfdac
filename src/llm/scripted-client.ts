import { z } from 'zod'
import { errorMessage } from '../config/errors'
import { loadYamlFile } from '../config/yaml-file'
import { LlmError, misconfigured } from './errors'
import { createScriptPicker, matchPattern } from './script'
import type { LlmProviderSpec } from './spec'
import { cutAtStop } from './stop-sequences'
import type { LlmClient, LlmRequest, LlmResponse } from './types'

const scriptSchema = z
  .array(z.object({ match: matchPattern.optional(), reply: z.string() }).strict())
  .min(1, 'the script needs at least one entry')

export type ScriptEntry = z.infer<typeof scriptSchema>[number]

/** Rough token figure for text no tokenizer has seen: about four characters a token. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4)

/**
 * Replays canned replies from a YAML file. Not a model: it exists so demos and tests run without
 * an API key, and every response says `provider: 'scripted'`.
 */
export function createScriptedClient(spec: LlmProviderSpec & { scriptFile: string }): LlmClient {
  const endpoint = { name: spec.name, type: spec.type, model: spec.model }
  let entries: ScriptEntry[]
  try {
    entries = loadYamlFile(spec.scriptFile, scriptSchema)
  } catch (err) {
    const where = spec.sources?.scriptFile ? ` (set ${spec.sources.scriptFile})` : ''
    throw misconfigured(endpoint, `${errorMessage(err)}${where}`)
  }
  const pick = createScriptPicker(entries)
  const description = `scripted replies from ${spec.scriptFile} (not a model)`

  async function generate(request: LlmRequest): Promise<LlmResponse> {
    const started = performance.now()
    const cancelled = () =>
      new LlmError('llm_cancelled', `LLM provider "${spec.name}" (${description}): call cancelled`, endpoint)
    if (request.abortSignal?.aborted) throw cancelled()
    const lastUser = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
    const entry = pick(lastUser)
    if (!entry) {
      throw new LlmError(
        'llm_bad_response',
        `LLM provider "${spec.name}" (${description}): no entry matches the message "${lastUser.slice(0, 80)}"`,
        endpoint,
      )
    }
    const { text } = cutAtStop(entry.reply, request.stop ?? [])
    if (request.onTextDelta) {
      for (const line of text.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
        // Yield between deltas like a real stream, so a cancel can land mid-reply.
        await new Promise((resolve) => setImmediate(resolve))
        if (request.abortSignal?.aborted) throw cancelled()
        request.onTextDelta(line)
      }
    }
    const prompt = [request.system ?? '', ...request.messages.map((m) => m.content)].join('\n')
    return {
      text,
      usage: { inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(text) },
      latencyMs: Math.round(performance.now() - started),
      provider: 'scripted',
      providerName: spec.name,
      model: spec.model,
      finishReason: 'stop',
    }
  }

  return { name: spec.name, providerType: 'scripted', model: spec.model, generate, describe: () => description }
}
