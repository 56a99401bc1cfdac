import { renderPrompt } from './prompts'
import { estimateTokens, truncateMiddle } from './truncate'
import type { ExecutionRecord, ExecutionStatus } from './types'

/** One finished task of a session, as later tasks of the same session see it. */
export interface SessionTurn {
  executionId: string
  task: string
  answer: string | null
  status: ExecutionStatus
  /** Key observations of the run (last program output), already shortened. */
  observations?: string
  at: string
}

export interface SessionStore {
  load(sessionId: string): Promise<SessionTurn[]>
  /** Idempotent per executionId: appending the same turn twice keeps one. */
  append(sessionId: string, turn: SessionTurn): Promise<void>
  clear(sessionId: string): Promise<void>
}

/** Process-local sessions for the CLI and tests; the Motia layer keeps sessions in Redis. */
export class InMemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionTurn[]>()

  async load(sessionId: string): Promise<SessionTurn[]> {
    return [...(this.sessions.get(sessionId) ?? [])]
  }

  async append(sessionId: string, turn: SessionTurn): Promise<void> {
    const turns = this.sessions.get(sessionId) ?? []
    const at = turns.findIndex((t) => t.executionId === turn.executionId)
    if (at >= 0) turns[at] = turn
    else turns.push(turn)
    this.sessions.set(sessionId, turns)
  }

  async clear(sessionId: string): Promise<void> {
    this.sessions.delete(sessionId)
  }
}

const OBSERVATION_CHARS = 600

/**
 * The turn a finished execution adds to its session. Key observations are the last program output
 * of the agent itself, shortened. The Motia layer (appendToSession: false) appends this too.
 */
export function sessionTurnOf(record: ExecutionRecord): SessionTurn {
  const lastRun = record.steps.findLast((s) => s.type === 'execution')
  const printed = lastRun?.type === 'execution' ? lastRun.stdout.trim() : ''
  return {
    executionId: record.executionId,
    task: record.task,
    answer: record.result,
    status: record.status,
    observations: printed ? truncateMiddle(printed, OBSERVATION_CHARS) : undefined,
    at: record.finishedAt ?? new Date().toISOString(),
  }
}

const TURN_ANSWER_CHARS = 2_000
const TURN_OBSERVATION_CHARS = 600

function renderTurn(turn: SessionTurn, n: number): string {
  const lines = [`### Turn ${n}`, `Task: ${turn.task}`]
  if (turn.answer !== null) lines.push(`Answer: ${truncateMiddle(turn.answer, TURN_ANSWER_CHARS)}`)
  else lines.push(`Outcome: ${turn.status}, no answer`)
  if (turn.observations) lines.push(`Observations: ${truncateMiddle(turn.observations, TURN_OBSERVATION_CHARS)}`)
  return lines.join('\n')
}

/**
 * The session history for the prompt, newest turns first to be kept: the oldest turns are dropped
 * until the rest fits `budgetTokens`, with a one-line note saying how many were left out.
 */
export function renderHistory(turns: SessionTurn[], budgetTokens: number): string {
  if (turns.length === 0) return ''
  const rendered = turns.map((t, i) => renderTurn(t, i + 1))
  const kept: string[] = []
  let used = 0
  for (let i = rendered.length - 1; i >= 0; i--) {
    const cost = estimateTokens(rendered[i]) + 1
    if (used + cost > budgetTokens) break
    kept.unshift(rendered[i])
    used += cost
  }
  if (kept.length === 0) {
    // Even the newest turn is over budget: keep a shortened copy rather than forget the last answer.
    kept.push(truncateMiddle(rendered[rendered.length - 1], budgetTokens * 4))
  }
  const omitted = turns.length - kept.length
  const note = omitted > 0 ? `(${omitted} earlier turn${omitted === 1 ? '' : 's'} omitted to save space)\n` : ''
  return renderPrompt('history', { omitted: note, turns: kept.join('\n\n') })
}
