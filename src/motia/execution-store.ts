import type { StateAdapter } from '@motiadev/core'
import type { AgentEvent, AgentStep, ExecutionRecord, ExecutionStatus } from '../agent/types'
import type { Redis } from './redis'

/** Motia state group holding execution records; Workbench's States tab shows it as-is. */
export const EXECUTIONS_GROUP = 'agent-executions'
const TERMINAL: ExecutionStatus[] = ['completed', 'failed', 'cancelled']

/** The record as stored: the API record plus what the runner needs to (re)start the task. */
export type StoredExecution = ExecutionRecord & {
  availableSkills?: string[]
  sandbox?: string
  /** Id of the API key that created it; other keys get 404. */
  owner?: string
  /** Instance that ran (or runs) it: host:pid:nonce. */
  worker?: string
}

export const isTerminal = (status: ExecutionStatus): boolean => TERMINAL.includes(status)

export const eventsChannel = (executionId: string) => `agent:events:${executionId}`

/** What a live-progress subscriber receives: agent events plus the final record. */
export type ProgressMessage = AgentEvent | { type: 'done'; executionId: string; record: StoredExecution }

/**
 * Execution records in Motia's Redis state, with every change also published on a Redis channel
 * so an SSE client connected to any instance sees progress made on any other.
 */
export class ExecutionStore {
  constructor(
    private readonly state: StateAdapter,
    private readonly redis: Redis,
    private readonly onChange?: (record: StoredExecution) => void,
  ) {}

  async get(executionId: string): Promise<StoredExecution | null> {
    return (await this.state.get<StoredExecution>(EXECUTIONS_GROUP, executionId)) ?? null
  }

  async put(record: StoredExecution): Promise<void> {
    await this.state.set(EXECUTIONS_GROUP, record.executionId, record)
    this.onChange?.(record)
  }

  async all(): Promise<StoredExecution[]> {
    return this.state.getGroup<StoredExecution>(EXECUTIONS_GROUP)
  }

  async delete(executionId: string): Promise<void> {
    await this.state.delete(EXECUTIONS_GROUP, executionId)
  }

  async publish(message: ProgressMessage): Promise<void> {
    await this.redis.publish(eventsChannel(message.executionId), JSON.stringify(message))
  }

  /**
   * Applies one agent event to the stored record and publishes it. A subagent's live steps are only
   * streamed: the finished record nests them under the parent's delegation step. A terminal status is
   * stored only with the final record, so no reader sees "failed" without its error.
   */
  async applyEvent(record: StoredExecution, event: AgentEvent): Promise<void> {
    const isOwnStep = event.type === 'step' && !event.delegation
    if (isOwnStep) upsertStep(record.steps, event.step)
    if (isOwnStep) await this.put(record)
    if (event.type !== 'status' || !isTerminal(event.status)) await this.publish(event)
  }
}

function upsertStep(steps: AgentStep[], step: AgentStep): void {
  const at = steps.findIndex((s) => s.index === step.index)
  if (at === -1) steps.push(step)
  else steps[at] = step
}
