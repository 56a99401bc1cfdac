import type { AgentEvent, AgentStep } from '../agent/types'

const ANSI = { dim: '\x1b[2m', bold: '\x1b[1m', red: '\x1b[31m', green: '\x1b[32m', cyan: '\x1b[36m', reset: '\x1b[0m' }
type Color = keyof typeof ANSI

const oneLine = (text: string, max = 100): string => {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

const kb = (bytes: number): string => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} kB`)

function argsPreview(args: unknown[], kwargs: Record<string, unknown>): string {
  const parts = [
    ...args.map((a) => JSON.stringify(a)),
    ...Object.entries(kwargs).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
  ]
  return oneLine(parts.join(', '), 60)
}

/** One line per step, for people watching a run in the terminal. */
export function describeStep(step: AgentStep): { text: string; color?: Color } {
  switch (step.type) {
    case 'plan':
      return { text: `plan: ${oneLine(step.plan)}`, color: 'cyan' }
    case 'llm_call':
      return {
        text: `llm ${step.provider}/${step.model}: ${step.usage.inputTokens}→${step.usage.outputTokens} tokens, ${step.durationMs} ms`,
        color: 'dim',
      }
    case 'code':
      return { text: `program (${step.code.split('\n').length} lines, ${step.format})`, color: 'dim' }
    case 'execution':
      return step.ok
        ? { text: `ran in ${step.durationMs} ms${step.stdout ? `: ${oneLine(step.stdout, 80)}` : ''}` }
        : { text: `failed: ${oneLine(`${step.error?.type}: ${step.error?.message}`)}`, color: 'red' }
    case 'skill_call': {
      const c = step.call
      const outcome = c.ok ? `${kb(c.resultBytes)}` : `error: ${oneLine(c.error ?? '', 60)}`
      return {
        text: `skill ${c.skill}(${argsPreview(c.args, c.kwargs)}) ${c.durationMs} ms, ${outcome}`,
        color: c.ok ? undefined : 'red',
      }
    }
    case 'delegation':
      return {
        text: `${step.subagent} ${step.status} after ${step.steps.length} steps${step.error ? `: ${oneLine(step.error, 80)}` : ''}`,
        color: step.status === 'completed' ? 'green' : 'red',
      }
    case 'final':
      return { text: 'final answer', color: 'green' }
  }
}

/**
 * Writes live progress: each step as one line (subagents indented under their delegation), LLM
 * deltas dimmed as they stream.
 */
export function createProgressPrinter(write: (text: string) => void, useColor: boolean): (e: AgentEvent) => void {
  const paint = (text: string, color?: Color) => (useColor && color ? `${ANSI[color]}${text}${ANSI.reset}` : text)
  let midDelta = false
  const endDelta = () => {
    if (midDelta) write('\n')
    midDelta = false
  }
  return (event) => {
    if (event.type === 'llm_delta') {
      if (!midDelta) write(paint(`${'  '.repeat(event.delegation?.depth ?? 0)}│ `, 'dim'))
      write(paint(event.delta.replace(/\n/g, `\n${'  '.repeat(event.delegation?.depth ?? 0)}│ `), 'dim'))
      midDelta = true
      return
    }
    endDelta()
    if (event.type === 'status') {
      write(`${paint(`● ${event.status}`, 'bold')}\n`)
      return
    }
    const indent = '  '.repeat(event.delegation?.depth ?? 0)
    const who = event.delegation ? `[${event.delegation.agent}] ` : ''
    const { text, color } = describeStep(event.step)
    write(`${indent}${paint(`${who}${text}`, color)}\n`)
  }
}
