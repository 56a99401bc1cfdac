import type { MotiaPluginContext, MotiaStream } from '@motiadev/core'
import type { StoredExecution } from './execution-store'

export const EXECUTIONS_STREAM = 'agentExecutions'

interface ExecutionSummary {
  executionId: string
  sessionId: string
  agent: string
  status: string
  task: string
  stepCount: number
  lastStep: string | null
  result: string | null
  error: string | null
  updatedAt: string
}

/**
 * A Motia stream of execution summaries, grouped by session, so Workbench and Motia stream clients see
 * the same progress the SSE endpoint sends. Registered from the plugin: no `.stream.ts` file needed.
 */
export class ExecutionStream {
  private constructor(private readonly stream: MotiaStream<ExecutionSummary> | null) {}

  static create(motia: MotiaPluginContext): ExecutionStream {
    const factory = motia.lockedData.createStream<ExecutionSummary>(
      {
        filePath: '__agent_plugin/agent-executions.stream.ts',
        hidden: false,
        config: {
          name: EXECUTIONS_STREAM,
          schema: { type: 'object', properties: {} } as never,
          baseConfig: { storageType: 'default' },
        },
      },
      { disableTypeCreation: true },
    )
    return new ExecutionStream(factory() as MotiaStream<ExecutionSummary>)
  }

  update(record: StoredExecution): void {
    const last = record.steps.at(-1)
    this.stream
      ?.set(record.sessionId, record.executionId, {
        executionId: record.executionId,
        sessionId: record.sessionId,
        agent: record.agent,
        status: record.status,
        task: record.task.slice(0, 500),
        stepCount: record.steps.length,
        lastStep: last ? last.type : null,
        result: record.result,
        error: record.error?.message ?? null,
        updatedAt: new Date().toISOString(),
      })
      .catch(() => undefined)
  }
}
