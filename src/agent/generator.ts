import type { LlmClient, LlmMessage } from '../llm/types'
import type { SkillCatalog } from '../skills/types'
import type { ResolvedAgent } from './agents-config'
import { type ExtractedProgram, extractProgram } from './code-extraction'
import { renderPrompt } from './prompts'
import { type RunTotals, type StepLog, stopwatch } from './record'
import { truncateMiddle } from './truncate'

export interface SubagentSummary {
  name: string
  description: string
}

/** System prompt: protocol rules, the agent's instructions, its skills as Python signatures, its subagents. */
export function buildSystemPrompt(agent: ResolvedAgent, catalog: SkillCatalog, subagents: SubagentSummary[]): string {
  const delegationRules = subagents.length
    ? renderPrompt('delegation', {
        subagents: subagents.map((s) => `- "${s.name}": ${s.description}`).join('\n'),
      })
    : ''
  const stubs = catalog.renderCatalog(agent.skills).trim()
  const delegateStub = subagents.length
    ? 'def delegate(agent: str, task: str) -> str:\n    """Runs a specialist agent on a sub-task and returns its answer."""'
    : ''
  return renderPrompt('system', {
    agentName: agent.name,
    instructions: agent.instructions.trim(),
    endRule: renderPrompt(agent.outputIsAnswer ? 'rule-output-is-answer' : 'rule-final-answer-only').trim(),
    delegationRules,
    catalog: [stubs, delegateStub].filter(Boolean).join('\n\n') || '# no tools: use plain Python',
  })
}

export function buildTaskMessage(task: string, history: string): string {
  return renderPrompt('task', { task, history })
}

export interface LlmTurnOptions {
  llm: LlmClient
  system: string
  log: StepLog
  totals: RunTotals
  signal: AbortSignal
  recordChars: number
  maxOutputTokens?: number
  onDelta?: (delta: string) => void
}

/** One LLM round trip, recorded as an `llm_call` step with usage and latency. */
export async function callLlm(opts: LlmTurnOptions, messages: LlmMessage[]): Promise<string> {
  const watch = stopwatch()
  const response = await opts.llm.generate({
    system: opts.system,
    messages,
    maxOutputTokens: opts.maxOutputTokens,
    abortSignal: opts.signal,
    onTextDelta: opts.onDelta,
  })
  opts.totals.usage.inputTokens += response.usage.inputTokens
  opts.totals.usage.outputTokens += response.usage.outputTokens
  opts.totals.usage.llmCalls++
  opts.totals.llmMs += response.latencyMs
  opts.log.add({
    type: 'llm_call',
    startedAt: watch.startedAt,
    durationMs: watch.elapsed(),
    provider: response.provider,
    model: response.model,
    usage: response.usage,
    reply: truncateMiddle(response.text, opts.recordChars),
  })
  return response.text
}

export interface GeneratedProgram extends ExtractedProgram {
  /** The plan: from the separate plan call, or the text before the code in an inline reply. */
  plan: string
}

/**
 * Asks for the next program. `messages` is the conversation so far and gains the assistant turns.
 * With `separatePlan`, a plan call comes first and the code call sees the plan (two-call mode).
 */
export async function generateProgram(
  opts: LlmTurnOptions,
  messages: LlmMessage[],
  separatePlan: boolean,
): Promise<GeneratedProgram> {
  if (!separatePlan) {
    const reply = await callLlm(opts, messages)
    messages.push({ role: 'assistant', content: reply })
    const extracted = extractProgram(reply)
    return { ...extracted, plan: extracted.preface }
  }
  const last = messages[messages.length - 1]
  // Append to the pending user turn: some providers reject two user messages in a row.
  last.content = `${last.content}\n\n${renderPrompt('plan')}`
  const plan = (await callLlm(opts, messages)).trim()
  const eager = extractProgram(plan)
  if (eager.code !== null) {
    // The model wrote code already: use it rather than spend a second call.
    messages.push({ role: 'assistant', content: plan })
    return { ...eager, plan: eager.preface }
  }
  messages.push({ role: 'assistant', content: plan }, { role: 'user', content: renderPrompt('code-after-plan') })
  const reply = await callLlm(opts, messages)
  messages.push({ role: 'assistant', content: reply })
  return { ...extractProgram(reply), plan }
}
