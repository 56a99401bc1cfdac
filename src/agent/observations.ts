import type { RunResult } from '../sandbox/types'
import { renderPrompt } from './prompts'
import type { AgentLimits } from './scope'
import { truncateMiddle, truncateTraceback } from './truncate'

/**
 * What the model sees after a run. Only the program's own output and errors, shortened: skill
 * results stay inside the sandbox unless the program prints them (the point of PTC).
 */
export function observeFailure(result: RunResult, limits: AgentLimits, stepsLeft: number): string {
  const stdout = result.stdout.trim()
  const output = stdout
    ? `Output before the error:\n\`\`\`\n${truncateMiddle(stdout, limits.observationChars)}\n\`\`\`\n`
    : ''
  const error = result.error
  const detail = error
    ? error.traceback.trim() || `${error.type}: ${error.message}`
    : result.stderr.trim() || 'the program failed without an error message'
  return renderPrompt('repair', { output, error: truncateTraceback(detail, limits.errorChars), stepsLeft })
}

/** A successful run that has not answered yet: the model sees its (shortened) output and goes on. */
export function observeUnfinishedRun(result: RunResult, limits: AgentLimits): string {
  const stdout = result.stdout.trim()
  return renderPrompt('observation', {
    output: stdout ? truncateMiddle(stdout, limits.observationChars) : '(nothing printed)',
  })
}

/** `final_answer(value)` as the answer string: text as-is, anything else as JSON. */
export function renderAnswer(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === undefined || value === null) return ''
  try {
    return JSON.stringify(value, null, 2)
  } catch {
    return String(value)
  }
}
