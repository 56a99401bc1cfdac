import type { MotiaPluginContext } from '@motiadev/core'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/motia/log'

describe('createLogger', () => {
  it("puts each line into Motia's log stream too, traced by execution id", async () => {
    const entries: Record<string, unknown>[] = []
    const stream = {
      set: async (_group: string, _id: string, entry: Record<string, unknown>) => void entries.push(entry),
    }
    const motia = {
      lockedData: { getStreams: () => ({ '__motia.logs': () => stream }) },
    } as unknown as MotiaPluginContext
    const log = createLogger('info', motia)
    log.info({ executionId: 'exec-1', extra: 42 }, 'task started')
    log.debug('below the level')
    await new Promise((r) => setTimeout(r, 10))
    expect(entries).toEqual([
      expect.objectContaining({ level: 'info', msg: 'task started', traceId: 'exec-1', extra: 42, flows: ['agent'] }),
    ])
    expect(typeof entries[0].time).toBe('number')
  })
})
