import type { StateAdapter } from '@motiadev/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentRuntime, RunTaskOptions } from '../../src/agent/runtime'
import type { ExecutionRecord } from '../../src/agent/types'
import { ExecutionStore, queuedExecution } from '../../src/motia/execution-store'
import { createLogger } from '../../src/motia/log'
import { connectRedis, type Redis } from '../../src/motia/redis'
import { SessionOrder } from '../../src/motia/session-order'
import { TaskRunner } from '../../src/motia/task-runner'
import { TOPICS } from '../../src/motia/topics'
import { startRedis, type TestRedis } from '../helpers/redis'

/** Motia state in a Map: the runner only reads and writes whole records. */
function memoryState(): StateAdapter {
  const data = new Map<string, unknown>()
  return {
    get: async (group: string, key: string) => data.get(`${group}:${key}`) ?? null,
    set: async (group: string, key: string, value: unknown) => {
      data.set(`${group}:${key}`, structuredClone(value))
      return value
    },
    delete: async (group: string, key: string) => data.delete(`${group}:${key}`),
  } as unknown as StateAdapter
}

/** An agent that runs until it is aborted, like a task waiting on a slow LLM. */
const blockingRuntime = {
  runTask: (options: RunTaskOptions) =>
    new Promise<ExecutionRecord>((resolve) => {
      options.signal?.addEventListener('abort', () =>
        resolve({ status: 'cancelled', steps: [], skillCalls: [], timings: {} } as unknown as ExecutionRecord),
      )
    }),
} as unknown as AgentRuntime

const queued = (id: string) => queuedExecution({ executionId: id, sessionId: `s-${id}`, agent: 'master', task: 't' })

let redis: TestRedis
let client: Redis

beforeAll(async () => {
  redis = await startRedis()
  client = await connectRedis(redis.url)
})

afterAll(async () => {
  await client?.quit()
  await redis?.stop()
})

/** A runner over the blocking agent, a real Redis, and in-memory Motia state. */
function makeRunner(executions: ExecutionStore, emit: (topic: string) => Promise<void>): TaskRunner {
  return new TaskRunner({
    runtime: blockingRuntime,
    executions,
    order: new SessionOrder(client),
    redis: client,
    instanceId: 'test-instance',
    log: createLogger('silent'),
    emit,
  })
}

describe('TaskRunner on shutdown', () => {
  it('counts a handed-back task as active until its re-queue event is out', async () => {
    const executions = new ExecutionStore(memoryState(), client)
    const emitted: { topic: string; at: number; activeWhileEmitting: number }[] = []
    const runner: TaskRunner = makeRunner(executions, async (topic) => {
      // A slow queue write: shutdown must wait for it, or it closes the queue under our feet.
      await new Promise((r) => setTimeout(r, 50))
      emitted.push({ topic, at: Date.now(), activeWhileEmitting: runner.activeCount })
    })
    await executions.put(queued('e1'))
    const handling = runner.handle({ executionId: 'e1', sessionId: 's-e1' })
    while (runner.activeCount === 0 || !(await executions.get('e1'))?.status.includes('running')) {
      await new Promise((r) => setTimeout(r, 5))
    }
    runner.stopTaking()
    runner.handBackAll()
    let sawIdleBeforeRequeue = false
    while (runner.activeCount > 0) {
      if (emitted.length === 0 && runner.activeCount === 0) sawIdleBeforeRequeue = true
      await new Promise((r) => setTimeout(r, 1))
    }
    await handling
    expect(sawIdleBeforeRequeue).toBe(false)
    expect(emitted.map((e) => e.topic)).toEqual([TOPICS.taskRequested])
    expect(emitted[0].activeWhileEmitting).toBe(1)
    expect((await executions.get('e1'))?.status).toBe('queued')
  })

  it('sends a task that arrives while draining straight back to the queue', async () => {
    const executions = new ExecutionStore(memoryState(), client)
    const emitted: string[] = []
    const runner = makeRunner(executions, async (topic) => void emitted.push(topic))
    await executions.put(queued('e2'))
    runner.stopTaking()
    await runner.handle({ executionId: 'e2', sessionId: 's-e2' })
    expect(emitted).toEqual([TOPICS.taskRequested])
    expect((await executions.get('e2'))?.status).toBe('queued')
  })
})
