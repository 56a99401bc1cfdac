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

/** A just-accepted execution: status `queued`, nothing run yet. */
export function queuedExecution(
  fields: Pick<StoredExecution, 'executionId' | 'sessionId' | 'agent' | 'task'> &
    Partial<Pick<StoredExecution, 'availableSkills' | 'sandbox' | 'owner'>>,
): StoredExecution {
  return {
    status: 'queued',
    result: null,
    error: null,
    steps: [],
    skillCalls: [],
    usage: { inputTokens: 0, outputTokens: 0, llmCalls: 0 },
    timings: { llmMs: 0, sandboxMs: 0 },
    createdAt: new Date().toISOString(),
    finishedAt: null,
    ...fields,
  }
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

  async delete(executionId: string): Promise<void> {
    await this.state.delete(EXECUTIONS_GROUP, executionId)
  }

  async publish(message: ProgressMessage): Promise<void> {
    await this.redis.publish(eventsChannel(message.executionId), JSON.stringify(message))
  }
}

/**
 * Writes a running execution's progress: each agent event updates the record, and events are
 * published only after a stored record containing them, so a reader that replays the record and
 * then follows the channel misses nothing. Writes are coalesced: while one is in flight, later
 * events wait and go out together with one write of the latest record.
 */
export class ProgressWriter {
  private pending: AgentEvent[] = []
  private running?: Promise<void>

  constructor(
    private readonly store: ExecutionStore,
    private readonly record: StoredExecution,
  ) {}

  push(event: AgentEvent): void {
    // Streamed model text is not stored, and a terminal status goes out with the final record.
    if (event.type === 'llm_delta') return void this.store.publish(event).catch(() => undefined)
    if (event.type === 'status' && isTerminal(event.status)) return
    // A subagent's live steps are only streamed: the finished record nests them under the delegation step.
    if (event.type === 'step' && !event.delegation) upsertStep(this.record.steps, event.step)
    this.pending.push(event)
    this.running ??= this.drain().finally(() => {
      this.running = undefined
    })
  }

  /** Resolves once every event pushed so far is stored and published. */
  async flush(): Promise<void> {
    while (this.running) await this.running
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0)
      try {
        if (batch.some((e) => e.type === 'step' && !e.delegation)) await this.store.put(this.record)
        await Promise.all(batch.map((e) => this.store.publish(e)))
      } catch {
        // Redis briefly away: progress is best effort, the final record is written (and retried) by the runner.
      }
    }
  }
}

function upsertStep(steps: AgentStep[], step: AgentStep): void {
  const at = steps.findIndex((s) => s.index === step.index)
  if (at === -1) steps.push(step)
  else steps[at] = step
}
