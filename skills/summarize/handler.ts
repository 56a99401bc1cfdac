import { readFileSync } from 'node:fs'
import type { SkillHandlerContext } from '../../src/skills/types'
import { extractiveSummary } from './extractive'

const PROMPT = readFileSync(new URL('./prompt.md', import.meta.url), 'utf8')
export const EXTRACTIVE_NOTE = '[extractive summary: no LLM configured]'
export const SCRIPTED_NOTE = '[extractive summary: the configured provider is scripted replies, not a model]'

/** Summary by the configured LLM (through the LLM layer, so no key reaches the sandbox); extractive without one. */
export default async function summarize(
  args: { text: string; max_words: number },
  ctx: SkillHandlerContext,
): Promise<string> {
  if (!ctx.llm) return `${EXTRACTIVE_NOTE} ${extractiveSummary(args.text, args.max_words)}`
  // A scripted provider would answer with its next canned program, not a summary of this text.
  if (ctx.llm.providerType === 'scripted') return `${SCRIPTED_NOTE} ${extractiveSummary(args.text, args.max_words)}`
  const response = await ctx.llm.generate({
    system: PROMPT.replaceAll('{{max_words}}', String(args.max_words)),
    messages: [{ role: 'user', content: args.text }],
    // A word is about 1.3 tokens in English; the margin lets the model finish its sentence.
    maxOutputTokens: Math.ceil(args.max_words * 2) + 32,
    temperature: 0.2,
    abortSignal: ctx.signal,
  })
  return response.text.trim()
}
