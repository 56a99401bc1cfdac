import type { ExecutionIndex } from './execution-index'
import { type ExecutionStore, isTerminal } from './execution-store'
import type { Logger } from './log'
import type { Redis } from './redis'

const LOCK_KEY = 'agent:retention-lock'
const SWEEP_EVERY_MS = 15 * 60_000

/**
 * Deletes finished executions older than the retention period. Every instance runs the timer; a
 * short Redis lock makes one of them do each sweep.
 */
export class ExecutionRetention {
  private timer?: NodeJS.Timeout

  constructor(
    private readonly deps: { redis: Redis; executions: ExecutionStore; index: ExecutionIndex; log: Logger },
    private readonly retentionDays: number,
  ) {}

  start(): void {
    if (this.retentionDays <= 0) return
    const tick = () =>
      void this.sweep().catch((err) => this.deps.log.warn({ err: String(err) }, 'retention sweep failed'))
    this.timer = setInterval(tick, SWEEP_EVERY_MS)
    this.timer.unref()
    tick()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** One sweep; returns how many executions it deleted. */
  async sweep(now = Date.now()): Promise<number> {
    const { redis, executions, index } = this.deps
    if ((await redis.set(LOCK_KEY, '1', { NX: true, PX: 60_000 })) !== 'OK') return 0
    const cutoff = now - this.retentionDays * 86_400_000
    let deleted = 0
    for (const id of await index.olderThan(cutoff)) {
      const record = await executions.get(id)
      if (record && !isTerminal(record.status)) continue
      if (record) await index.remove(record)
      else await index.remove({ executionId: id, sessionId: '' })
      await executions.delete(id)
      deleted++
    }
    if (deleted) this.deps.log.info({ deleted, retentionDays: this.retentionDays }, 'old executions deleted')
    await redis.del(LOCK_KEY)
    return deleted
  }
}
