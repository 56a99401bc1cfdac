import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Event, MotiaPluginContext } from '@motiadev/core'
import { sessionTurnOf } from '../agent/sessions'
import type { EnvConfig } from '../config/env'
import { createAgentRuntime } from '../runtime/bootstrap'
import { ExecutionIndex } from './execution-index'
import { ExecutionStore, isTerminal, type StoredExecution } from './execution-store'
import { ExecutionStream } from './execution-stream'
import { ANONYMOUS } from './http/auth'
import { RunningTaskBudget } from './http/rate-limit'
import type { Logger } from './log'
import { AgentMetrics } from './metrics'
import { connectRedis, type Redis, redisUrlFromEventAdapter } from './redis'
import { ExecutionRetention } from './retention'
import { SessionOrder } from './session-order'
import { RedisSessionStore } from './session-store'
import { TaskRunner } from './task-runner'
import { FLOW, SUBSCRIBERS, type TaskFinished, type TaskRequested, TOPICS } from './topics'

const CANCEL_CHANNEL = 'agent:cancel'
/** BullMQ lock of a running task; renewed while its instance lives, so a dead instance's task frees after it. */
const TASK_LOCK_SECONDS = 10
const STALLED_CHECK_MS = 5_000

type Runtime = Awaited<ReturnType<typeof createAgentRuntime>>

type ServiceParts = Pick<
  AgentService,
  | 'instanceId'
  | 'log'
  | 'env'
  | 'motia'
  | 'redis'
  | 'subscriber'
  | 'core'
  | 'executions'
  | 'index'
  | 'sessions'
  | 'order'
  | 'runner'
  | 'metrics'
>

/**
 * Everything the routes and subscribers share, built once per server process: the agent runtime
 * (a plain library), Redis-backed stores, the task runner and the topic subscriptions.
 */
export class AgentService {
  private readonly subscriptions: { id: string; unsubscribe(): Promise<void> }[] = []
  private taskSubscriptionId?: string
  /** Per-key budget of queued+running tasks, shared by all instances. */
  readonly budget: RunningTaskBudget
  /** Set on SIGTERM: /ready turns 503 and no new task starts here. */
  draining = false

  declare readonly instanceId: string
  declare readonly log: Logger
  declare readonly env: EnvConfig
  declare readonly motia: MotiaPluginContext
  declare readonly redis: Redis
  /** A second connection: a Redis connection in subscriber mode can do nothing else. */
  declare readonly subscriber: Redis
  declare readonly core: Runtime
  declare readonly executions: ExecutionStore
  declare readonly index: ExecutionIndex
  declare readonly sessions: RedisSessionStore
  declare readonly order: SessionOrder
  declare readonly runner: TaskRunner
  declare readonly metrics: AgentMetrics

  readonly retention: ExecutionRetention

  private constructor(parts: ServiceParts) {
    Object.assign(this, parts)
    this.retention = new ExecutionRetention(parts, parts.env.EXECUTION_RETENTION_DAYS)
    this.budget = new RunningTaskBudget(parts.redis, { maxPerKey: parts.env.MAX_RUNNING_TASKS_PER_KEY })
  }

  static async start(env: EnvConfig, motia: MotiaPluginContext, log: Logger): Promise<AgentService> {
    const instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
    const url = env.REDIS_URL ?? redisUrlFromEventAdapter(motia.eventAdapter)
    const onRedisError = (err: Error) => log.warn({ err: err.message }, 'Redis connection error')
    const redis = await connectRedis(url, onRedisError)
    const subscriber = redis.duplicate()
    subscriber.on('error', onRedisError)
    await subscriber.connect()
    const sessions = new RedisSessionStore(motia.state)
    const core = await createAgentRuntime(env, { sessions })
    const stream = ExecutionStream.create(motia)
    const executions = new ExecutionStore(motia.state, redis, (record) => stream.update(record))
    const index = new ExecutionIndex(redis, executions)
    const order = new SessionOrder(redis)
    const emit = (topic: string, data: unknown) => emitEvent(motia, topic, data)
    const metrics = new AgentMetrics({
      queueDepth: () => taskQueueDepth(motia),
      runningTasks: () => runner.activeCount,
    })
    const runner = new TaskRunner({
      runtime: core.runtime,
      executions,
      order,
      redis,
      instanceId,
      emit,
      log,
      onFinished: (record) => metrics.recordExecution(record),
    })
    const parts = { instanceId, log, env, motia, redis, subscriber, core, executions, index, sessions, order }
    const service = new AgentService({ ...parts, runner, metrics })
    await service.subscribe()
    service.retention.start()
    return service
  }

  private async subscribe(): Promise<void> {
    const { eventAdapter } = this.motia
    // visibilityTimeout = BullMQ lock duration: a job whose instance died is handed to another after it.
    const tasks = await eventAdapter.subscribe<TaskRequested>(
      TOPICS.taskRequested,
      SUBSCRIBERS.taskRunner,
      (event) => this.runner.handle(event.data),
      {
        type: 'standard',
        concurrency: this.env.AGENT_CONCURRENCY,
        maxRetries: 3,
        visibilityTimeout: TASK_LOCK_SECONDS,
      } as never,
    )
    this.taskSubscriptionId = tasks.id
    this.subscriptions.push(tasks)
    // Motia's adapter leaves BullMQ's 30 s stalled-job check; a task of a dead instance should move sooner.
    const worker = this.taskWorker()
    if (worker) worker.opts.stalledInterval = STALLED_CHECK_MS
    for (const topic of [TOPICS.taskCompleted, TOPICS.taskFailed]) {
      this.subscriptions.push(
        await eventAdapter.subscribe<TaskFinished>(
          topic,
          SUBSCRIBERS.historyUpdater,
          (event) => this.recordHistory(event.data),
          // Motia's BullMQ adapter passes an undefined lock duration to BullMQ unless one is given, which breaks its Lua scripts.
          { type: 'standard', maxRetries: 5, visibilityTimeout: 30 } as never,
        ),
      )
    }
    await this.subscriber.subscribe(CANCEL_CHANNEL, (executionId) => {
      this.runner.cancelLocal(executionId)
    })
  }

  /** agent.task.completed/failed → session history, then the session's next task may start. */
  async recordHistory(event: TaskFinished): Promise<void> {
    const record = await this.executions.get(event.executionId)
    if (record) await this.sessions.append(record.sessionId, sessionTurnOf(record))
    await this.order.release(event.sessionId, event.executionId)
    await this.budget.release(record?.owner ?? ANONYMOUS.keyId, event.executionId)
  }

  async enqueue(record: StoredExecution): Promise<void> {
    await this.executions.put(record)
    await this.index.add(record)
    await this.order.enqueue(record.sessionId, record.executionId)
    await emitEvent(this.motia, TOPICS.taskRequested, {
      executionId: record.executionId,
      sessionId: record.sessionId,
    } satisfies TaskRequested)
  }

  /** First key to use a session id owns it; returns the owner. */
  async claimSession(sessionId: string, keyId: string): Promise<string> {
    const key = `agent:session-owner:${sessionId}`
    await this.redis.set(key, keyId, { NX: true })
    return (await this.redis.get(key)) ?? keyId
  }

  async sessionOwner(sessionId: string): Promise<string | null> {
    return this.redis.get(`agent:session-owner:${sessionId}`)
  }

  /** Returns the execution already created with this key, or null after claiming it for `executionId`. */
  async claimIdempotencyKey(keyId: string, idempotencyKey: string, executionId: string): Promise<string | null> {
    const key = `agent:idempotency:${keyId}:${idempotencyKey}`
    const claimed = await this.redis.set(key, executionId, { NX: true, EX: 86_400 })
    return claimed === 'OK' ? null : await this.redis.get(key)
  }

  /** Forgets a session: running tasks are cancelled, history and executions deleted. */
  async deleteSession(sessionId: string): Promise<number> {
    const ids = await this.index.sessionExecutionIds(sessionId)
    for (const id of ids) {
      const record = await this.executions.get(id)
      if (record && !isTerminal(record.status)) await this.cancel(record)
      if (record) await this.index.remove(record)
      await this.executions.delete(id)
    }
    await this.sessions.clear(sessionId)
    await this.order.clear(sessionId)
    await this.index.dropSession(sessionId)
    await this.redis.del(`agent:session-owner:${sessionId}`)
    return ids.length
  }

  /** Cancels wherever the task runs: queued ones are marked here, running ones are aborted by their instance. */
  async cancel(record: StoredExecution): Promise<StoredExecution> {
    if (record.status === 'queued') {
      const cancelled: StoredExecution = {
        ...record,
        status: 'cancelled',
        error: { code: 'cancelled', message: 'The execution was cancelled before it started' },
        finishedAt: new Date().toISOString(),
      }
      await this.executions.put(cancelled)
      await this.executions.publish({ type: 'done', executionId: record.executionId, record: cancelled })
      return cancelled
    }
    if (!this.runner.cancelLocal(record.executionId)) await this.redis.publish(CANCEL_CHANNEL, record.executionId)
    return record
  }

  /** The BullMQ worker behind our task subscription (Motia's adapter exposes its worker manager). */
  private taskWorker() {
    const manager = (this.motia.eventAdapter as unknown as { workerManager?: WorkerLookup }).workerManager
    return this.taskSubscriptionId ? manager?.getWorkerInfo(this.taskSubscriptionId)?.worker : undefined
  }

  /**
   * SIGTERM: take no new tasks, give running ones `graceMs` to finish, hand the rest back to the queue
   * (another instance restarts them), then close.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true
    this.runner.stopTaking()
    await this.taskWorker()?.pause(true)
    const deadline = Date.now() + graceMs
    while (this.runner.activeCount > 0 && Date.now() < deadline) await sleep(100)
    if (this.runner.activeCount > 0) {
      this.log.warn({ running: this.runner.activeCount }, 'grace period over: handing running tasks back to the queue')
      this.runner.handBackAll()
      const handBackDeadline = Date.now() + 10_000
      while (this.runner.activeCount > 0 && Date.now() < handBackDeadline) await sleep(50)
    }
    await this.stop()
  }

  async stop(): Promise<void> {
    this.retention.stop()
    await Promise.allSettled(this.subscriptions.map((s) => s.unsubscribe()))
    await this.core.close().catch(() => undefined)
    await Promise.allSettled([this.subscriber.quit(), this.redis.quit()])
  }
}

interface QueueLookup {
  getQueueName(topic: string, stepName: string): string
  getQueue(name: string): { getJobCounts(...types: string[]): Promise<Record<string, number>> }
}

/** Tasks waiting in BullMQ (shared by every instance). */
async function taskQueueDepth(motia: MotiaPluginContext): Promise<number> {
  const queues = (motia.eventAdapter as unknown as { queueManager?: QueueLookup }).queueManager
  if (!queues) return 0
  const counts = await queues
    .getQueue(queues.getQueueName(TOPICS.taskRequested, SUBSCRIBERS.taskRunner))
    .getJobCounts('waiting', 'delayed', 'prioritized')
  return Object.values(counts).reduce((a, b) => a + b, 0)
}

interface WorkerLookup {
  getWorkerInfo(
    id: string,
  ): { worker: { pause(doNotWaitActive?: boolean): Promise<void>; opts: { stalledInterval?: number } } } | undefined
}

async function emitEvent(motia: MotiaPluginContext, topic: string, data: unknown): Promise<void> {
  await motia.eventAdapter.emit({ topic, data, traceId: randomUUID(), flows: [FLOW] } as unknown as Event<unknown>)
}
