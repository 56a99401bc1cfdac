import type { LlmClient } from '../llm/types'
import type { SandboxAdapter, SandboxSession } from '../sandbox/types'
import type { SkillCatalog } from '../skills/types'
import type { ResolvedAgent } from './agents-config'
import type { RunTotals, StepLog } from './record'
import type { AgentEvent, DelegationRef, ExecutionErrorInfo } from './types'

export interface AgentLimits {
  /** How deep delegation may nest: 1 lets the master delegate, subagents not. */
  maxDepth: number
  /** Agent steps (program attempts) across the master and all subagents of one execution. */
  maxTotalSteps: number
  /** Program output shown to the model after a run (head and tail kept). */
  observationChars: number
  /** Error and traceback shown to the model after a failed run. */
  errorChars: number
  /** Session history in the prompt, in estimated tokens (characters / 4). */
  historyTokens: number
  /** LLM replies and program output kept in the execution record. */
  recordChars: number
  maxOutputTokens?: number
}

export const DEFAULT_LIMITS: AgentLimits = {
  maxDepth: 2,
  maxTotalSteps: 40,
  observationChars: 4_000,
  errorChars: 3_000,
  historyTokens: 2_000,
  recordChars: 20_000,
}

export interface LlmSource {
  get(name?: string): LlmClient
  /** When present, agents naming an unknown client stop start-up instead of failing their tasks. */
  has?(name: string): boolean
}

export interface SandboxSource {
  get(name?: string): SandboxAdapter
}

/** Everything the agents of one execution share: ids, cancellation, budgets, dependencies. */
export interface ExecutionScope {
  executionId: string
  sessionId: string
  workspaceDir: string
  signal: AbortSignal
  totals: RunTotals
  limits: AgentLimits
  llm: LlmSource
  skills: SkillCatalog
  sandboxes: SandboxSource
  agents: Map<string, ResolvedAgent>
  emit: (event: AgentEvent) => void
  /** Stream LLM replies as deltas (only worth it when someone listens). */
  streaming: boolean
}

/** One agent working on one task: the master, or a subagent on a delegated sub-task. */
export interface AgentRun {
  agent: ResolvedAgent
  task: string
  /** Rendered session history; empty for subagents, whose tasks are self-contained. */
  history: string
  sandbox: SandboxSession
  log: StepLog
  depth: number
  delegation?: DelegationRef
}

export interface AgentOutcome {
  status: 'completed' | 'failed' | 'cancelled'
  answer: string | null
  error: ExecutionErrorInfo | null
}
