import type { SkillCallRecord } from '../sandbox/types'
import type { AgentStep, ExecutionUsage } from './types'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
/** A step as the loop describes it; the log adds `index` and `agent`. */
export type NewStep = DistributiveOmit<AgentStep, 'index' | 'agent'>

/** The steps of one agent (the master, or one subagent run), emitted as each one is added. */
export class StepLog {
  readonly steps: AgentStep[] = []

  constructor(
    readonly agent: string,
    private readonly onStep: (step: AgentStep) => void,
  ) {}

  add(step: NewStep): AgentStep {
    const full = { ...step, index: this.steps.length, agent: this.agent } as AgentStep
    this.steps.push(full)
    this.onStep(full)
    return full
  }
}

/** Counters shared by the whole delegation tree of one execution. */
export class RunTotals {
  readonly usage: ExecutionUsage = { inputTokens: 0, outputTokens: 0, llmCalls: 0 }
  readonly skillCalls: SkillCallRecord[] = []
  llmMs = 0
  sandboxMs = 0
  private stepsTaken = 0

  constructor(private readonly maxTotalSteps: number) {}

  /** Claims one agent step from the execution-wide budget; false once it is spent. */
  takeStep(): boolean {
    if (this.stepsTaken >= this.maxTotalSteps) return false
    this.stepsTaken++
    return true
  }

  get steps(): number {
    return this.stepsTaken
  }
}

export const nowIso = (): string => new Date().toISOString()

/** Start time and a stopwatch for a step. */
export function stopwatch(): { startedAt: string; elapsed(): number } {
  const startedAt = nowIso()
  const t0 = performance.now()
  return { startedAt, elapsed: () => Math.round(performance.now() - t0) }
}
