import { readFileSync } from 'node:fs'
import { fillTemplate } from '../../src/agent/prompts'
import type { LlmClient, LlmMessage } from '../../src/llm/types'
import type { SkillCatalog, SkillContext } from '../../src/skills/types'

const SYSTEM = readFileSync(new URL('./baseline-system.md', import.meta.url), 'utf8')
const MAX_TURNS = 40

export interface BaselineOutcome {
  answer: string | null
  llmCalls: number
  inputTokens: number
  outputTokens: number
}

/**
 * The classic tool-calling loop PTC is measured against: the model asks for one tool per turn and
 * every full tool result is appended to the conversation, so each later request carries all of them.
 */
export async function runToolCallingBaseline(
  llm: LlmClient,
  catalog: SkillCatalog,
  skills: string[],
  task: string,
  context: SkillContext,
): Promise<BaselineOutcome> {
  const tools = catalog
    .list(skills)
    .map((s) => JSON.stringify({ name: s.name, description: s.description, parameters: s.parameters }))
    .join('\n')
  const system = fillTemplate(SYSTEM, { tools })
  const invoke = catalog.createInvoker(context, skills)
  const messages: LlmMessage[] = [{ role: 'user', content: task }]
  const outcome: BaselineOutcome = { answer: null, llmCalls: 0, inputTokens: 0, outputTokens: 0 }
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const reply = await llm.generate({ system, messages, abortSignal: context.signal })
    outcome.llmCalls++
    outcome.inputTokens += reply.usage.inputTokens
    outcome.outputTokens += reply.usage.outputTokens
    const move = JSON.parse(reply.text) as { tool?: string; arguments?: Record<string, unknown>; final_answer?: string }
    if (move.final_answer !== undefined) {
      outcome.answer = move.final_answer
      return outcome
    }
    const result = await invoke({ skill: move.tool!, args: [], kwargs: move.arguments ?? {} }, context.signal)
    messages.push(
      { role: 'assistant', content: reply.text },
      { role: 'user', content: `Result of ${move.tool}:\n${JSON.stringify(result)}` },
    )
  }
  return outcome
}

/** The tool results the scripted baseline model has seen so far, parsed back from the conversation. */
export function toolResultsIn(messages: { role: string; content: string }[]): unknown[] {
  return messages
    .filter((m) => m.role === 'user' && m.content.startsWith('Result of '))
    .map((m) => JSON.parse(m.content.slice(m.content.indexOf('\n') + 1)))
}
