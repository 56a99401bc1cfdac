import type { LlmUsage } from '../llm/types'
import type { SandboxError, SkillCallRecord } from '../sandbox/types'

export type ExecutionStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled'

interface StepBase {
  /** Position in the record, 0-based; stable across stream, API and tests. */
  index: number
  startedAt: string
  durationMs: number
  /** Agent that produced the step; subagent steps carry their own name. */
  agent: string
}

export interface PlanStep extends StepBase {
  type: 'plan'
  plan: string
}

export interface LlmCallStep extends StepBase {
  type: 'llm_call'
  provider: string
  model: string
  usage: LlmUsage
  /** Reply text, truncated for the record. */
  reply: string
}

export interface CodeStep extends StepBase {
  type: 'code'
  code: string
  /** 'python-fence' | 'code-tag' | 'none' */
  format: string
}

export interface ExecutionStep extends StepBase {
  type: 'execution'
  ok: boolean
  stdout: string
  stderr: string
  error?: SandboxError
  hasFinalAnswer: boolean
  isolation?: string
}

export interface SkillCallStep extends StepBase {
  type: 'skill_call'
  call: SkillCallRecord
}

export interface DelegationStep extends StepBase {
  type: 'delegation'
  subagent: string
  task: string
  status: ExecutionStatus
  result?: string
  error?: string
  /** The child's own steps, nested. */
  steps: AgentStep[]
  /** Matches `delegation.id` on the live step events the child emitted while it ran. */
  delegationId?: string
}

export interface FinalStep extends StepBase {
  type: 'final'
  answer: string
}

export type AgentStep = PlanStep | LlmCallStep | CodeStep | ExecutionStep | SkillCallStep | DelegationStep | FinalStep

export interface ExecutionUsage {
  inputTokens: number
  outputTokens: number
  llmCalls: number
}

export interface ExecutionTimings {
  queuedMs?: number
  totalMs?: number
  llmMs: number
  sandboxMs: number
}

export interface ExecutionErrorInfo {
  code: string
  message: string
}

/** One shape everywhere: what the API returns, what the stream sends, what tests assert on. */
export interface ExecutionRecord {
  executionId: string
  sessionId: string
  agent: string
  status: ExecutionStatus
  task: string
  result: string | null
  error: ExecutionErrorInfo | null
  steps: AgentStep[]
  skillCalls: SkillCallRecord[]
  usage: ExecutionUsage
  timings: ExecutionTimings
  createdAt: string
  startedAt?: string
  finishedAt: string | null
}

/** Progress events; the Motia layer writes them to state and streams them. */
export type AgentEvent =
  | { type: 'status'; executionId: string; status: ExecutionStatus }
  | { type: 'step'; executionId: string; step: AgentStep; delegation?: DelegationRef }
  | { type: 'llm_delta'; executionId: string; agent: string; delta: string; delegation?: DelegationRef }

/**
 * Set on events a subagent emits while it runs. Their step indexes count within that subagent; the
 * finished record nests those steps under the parent's `delegation` step with the same `delegationId`.
 */
export interface DelegationRef {
  id: string
  agent: string
  /** 1 for a subagent of the master, 2 for its subagent, ... */
  depth: number
}
