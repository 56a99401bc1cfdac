import { setTimeout as sleep } from 'node:timers/promises'
import type { AgentRuntime } from '../agent/runtime'
import { errorMessage } from '../config/errors'
import { type ExecutionStore, isTerminal, ProgressWriter, type StoredExecution } from './execution-store'
import { ExecutionLease } from './lease'
import type { Logger } from './log'
import type { Redis } from './redis'
import type { SessionOrder } from './session-order'
import { type TaskFinished, type TaskRequested, TOPICS } from './topics'

export interface TaskRunnerDeps {
  runtime: AgentRuntime
  executions: ExecutionStore
  order: SessionOrder
  redis: Redis
  instanceId: string
  emit: (topic: string, data: unknown) => Promise<void>
  log: Logger
  onFinished?: (record: StoredExecution) => void
}

/** Abort reason when the instance shuts down: the task goes back to the queue instead of failing. */
export class HandBack extends Error {
  constructor() {
    super('instance shutting down; task handed back to the queue')
  }
}

/** How long a task waits in-slot for its session's turn before going to the back of the queue. */
const TURN_WAIT_MS = 2_000
const TURN_POLL_MS = 25
/** A finished head whose ticket was never returned (its history job lost) is dropped after this. */
const STALE_HEAD_MS = 30_000

/**
 * Consumes `agent.task.requested`: waits for the session's turn, holds a lease so exactly one instance
 * runs the execution, runs the agent library, writes each step to state as it happens, and emits
 * `agent.task.completed` / `agent.task.failed`.
 */
export class TaskRunner {
  private readonly running = new Map<string, AbortController>()
  private inflight = 0
  private draining = false

  constructor(private readonly deps: TaskRunnerDeps) {}

  /** Events being handled here, from pickup until the last write or re-queue is done. */
  get activeCount(): number {
    return this.inflight
  }

  /**
   * Shutdown: take no new task. A paused BullMQ worker may still hand over a job it was already
   * fetching; such a job goes straight back to the queue.
   */
  stopTaking(): void {
    this.draining = true
  }

  /** Shutdown: every task still running here is stopped and re-queued for another instance. */
  handBackAll(): void {
    for (const controller of this.running.values()) controller.abort(new HandBack())
  }

  /** Aborts a task if this instance runs it; returns whether it did. */
  cancelLocal(executionId: string): boolean {
    const controller = this.running.get(executionId)
    controller?.abort(new Error('cancelled by request'))
    return Boolean(controller)
  }

  async handle(event: TaskRequested): Promise<void> {
    // Counted until the very end: shutdown must not close the queue while a hand-back is being emitted.
    this.inflight++
    try {
      await this.process(event)
    } finally {
      this.inflight--
    }
  }

  private async process(event: TaskRequested): Promise<void> {
    if (this.draining) return this.deps.emit(TOPICS.taskRequested, event)
    const { executions } = this.deps
    const record = await executions.get(event.executionId)
    if (!record) {
      this.deps.log.warn({ executionId: event.executionId }, 'task event for unknown execution dropped')
      return
    }
    if (isTerminal(record.status)) return this.announce(record)
    if (!(await this.waitForTurn(record)) || this.draining) {
      await this.deps.emit(TOPICS.taskRequested, event)
      return
    }
    const lease = new ExecutionLease(this.deps.redis, record.executionId, this.deps.instanceId)
    // Another instance holds it: BullMQ retries this job after its backoff, by which time it is done or lapsed.
    if (!(await lease.acquire())) throw new Error(`execution ${record.executionId} is running on another instance`)
    let handedBack = false
    try {
      const latest = (await executions.get(record.executionId)) ?? record
      if (isTerminal(latest.status)) return this.announce(latest)
      handedBack = await this.run(latest)
    } finally {
      await lease.release().catch(() => undefined)
    }
    // Only after the lease is free, or the instance taking it over would find it still held.
    if (handedBack) await this.requeue(record)
  }

  /** Runs the task; returns true when it was stopped by shutdown and must go back to the queue. */
  private async run(record: StoredExecution): Promise<boolean> {
    const { executions, runtime } = this.deps
    const controller = new AbortController()
    this.running.set(record.executionId, controller)
    const resumed = record.status === 'running'
    const startedAt = new Date().toISOString()
    const live: StoredExecution = {
      ...record,
      status: 'running',
      startedAt,
      steps: [],
      skillCalls: [],
      worker: this.deps.instanceId,
    }
    const progress = new ProgressWriter(executions, live)
    try {
      await executions.put(live)
      await executions.publish({ type: 'status', executionId: live.executionId, status: 'running' })
      this.deps.log.info(
        { executionId: live.executionId },
        resumed ? 'task restarted after instance loss' : 'task started',
      )
      const result = await runtime.runTask({
        task: record.task,
        sessionId: record.sessionId,
        executionId: record.executionId,
        agent: record.agent,
        availableSkills: record.availableSkills,
        sandbox: record.sandbox,
        createdAt: record.createdAt,
        signal: controller.signal,
        appendToSession: false,
        onEvent: (event) => progress.push(event),
      })
      await progress.flush()
      if (controller.signal.reason instanceof HandBack) return true
      const final: StoredExecution = {
        ...result,
        availableSkills: record.availableSkills,
        sandbox: record.sandbox,
        owner: record.owner,
        worker: this.deps.instanceId,
        createdAt: record.createdAt,
        startedAt,
        timings: { ...result.timings, queuedMs: Date.parse(startedAt) - Date.parse(record.createdAt) },
      }
      await executions.put(final)
      await this.announce(final)
      return false
    } catch (err) {
      await progress.flush()
      const failed: StoredExecution = {
        ...live,
        status: 'failed',
        error: { code: 'internal_error', message: `Task runner failed: ${errorMessage(err)}` },
        finishedAt: new Date().toISOString(),
      }
      await executions.put(failed)
      await this.announce(failed)
      return false
    } finally {
      this.running.delete(record.executionId)
    }
  }

  private async requeue(record: StoredExecution): Promise<void> {
    await this.deps.executions.put({ ...record, status: 'queued', steps: [], skillCalls: [], worker: undefined })
    await this.deps.executions.publish({ type: 'status', executionId: record.executionId, status: 'queued' })
    await this.deps.emit(TOPICS.taskRequested, { executionId: record.executionId, sessionId: record.sessionId })
    this.deps.log.warn({ executionId: record.executionId }, 'task handed back to the queue')
  }

  /** Publishes the final record and hands the execution to the history updater (idempotent). */
  private async announce(record: StoredExecution): Promise<void> {
    await this.deps.executions.publish({ type: 'done', executionId: record.executionId, record })
    this.deps.onFinished?.(record)
    const data: TaskFinished = {
      executionId: record.executionId,
      sessionId: record.sessionId,
      status: record.status as TaskFinished['status'],
    }
    await this.deps.emit(record.status === 'completed' ? TOPICS.taskCompleted : TOPICS.taskFailed, data)
  }

  private async waitForTurn(record: StoredExecution): Promise<boolean> {
    const { order, executions } = this.deps
    const deadline = Date.now() + TURN_WAIT_MS
    while (true) {
      const head = await order.head(record.sessionId)
      if (head === null || head === record.executionId) return true
      if ((await order.position(record.sessionId, record.executionId)) === -1) return true
      const headRecord = await executions.get(head)
      const finishedAt = headRecord?.finishedAt ? Date.parse(headRecord.finishedAt) : undefined
      if (!headRecord || (finishedAt !== undefined && Date.now() - finishedAt > STALE_HEAD_MS)) {
        await order.release(record.sessionId, head)
        continue
      }
      if (Date.now() > deadline) return false
      await sleep(TURN_POLL_MS)
    }
  }
}
