import type { StateAdapter } from '@motiadev/core'
import { describe, expect, it } from 'vitest'
import type { AgentStep } from '../../src/agent/types'
import { ExecutionStore, ProgressWriter, queuedExecution, type StoredExecution } from '../../src/motia/execution-store'
import type { Redis } from '../../src/motia/redis'

/** State and Redis stand-ins that record, in order, what was stored and what was published. */
function recordingStore() {
  const log: { op: 'put' | 'publish'; steps?: number[]; message?: { type: string; step?: AgentStep } }[] = []
  const slowWrites = { delayMs: 5 }
  const state = {
    async set(_group: string, _key: string, value: StoredExecution) {
      const steps = value.steps.map((s) => s.index)
      await new Promise((r) => setTimeout(r, slowWrites.delayMs))
      log.push({ op: 'put', steps })
      return value
    },
  } as unknown as StateAdapter
  const redis = {
    async publish(_channel: string, payload: string) {
      log.push({ op: 'publish', message: JSON.parse(payload) })
      return 1
    },
  } as unknown as Redis
  return { store: new ExecutionStore(state, redis), log }
}

const record = () => queuedExecution({ executionId: 'e1', sessionId: 's1', agent: 'master', task: 't' })

const step = (index: number): AgentStep => ({
  type: 'plan',
  plan: `p${index}`,
  index,
  agent: 'master',
  startedAt: new Date().toISOString(),
  durationMs: 0,
})

describe('ProgressWriter', () => {
  it('publishes a step only after a stored record holds it, and coalesces writes', async () => {
    const { store, log } = recordingStore()
    const writer = new ProgressWriter(store, record())
    for (let i = 0; i < 6; i++) writer.push({ type: 'step', executionId: 'e1', step: step(i) })
    await writer.flush()

    const published = log.filter((l) => l.op === 'publish').map((l) => l.message?.step?.index)
    expect(published).toEqual([0, 1, 2, 3, 4, 5])
    for (const [at, entry] of log.entries()) {
      if (entry.op !== 'publish') continue
      const lastPut = log.slice(0, at).findLast((l) => l.op === 'put')
      expect(lastPut?.steps).toContain(entry.message?.step?.index)
    }
    expect(log.filter((l) => l.op === 'put').length).toBeLessThan(6)
  })

  it('streams model text at once, without storing it, and keeps terminal status for the final record', async () => {
    const { store, log } = recordingStore()
    const writer = new ProgressWriter(store, record())
    writer.push({ type: 'llm_delta', executionId: 'e1', agent: 'master', delta: 'he' })
    writer.push({ type: 'status', executionId: 'e1', status: 'completed' })
    await writer.flush()
    expect(log).toEqual([
      { op: 'publish', message: { type: 'llm_delta', executionId: 'e1', agent: 'master', delta: 'he' } },
    ])
  })
})
