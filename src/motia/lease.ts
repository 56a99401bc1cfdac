import type { Redis } from './redis'

const leaseKey = (executionId: string) => `agent:lease:${executionId}`

/**
 * One instance at a time runs an execution. The lease expires on its own when its holder dies, so
 * BullMQ's stalled-job retry on another instance can take the task over.
 */
export class ExecutionLease {
  private timer?: NodeJS.Timeout

  constructor(
    private readonly redis: Redis,
    private readonly executionId: string,
    private readonly owner: string,
    private readonly ttlMs = 15_000,
  ) {}

  async acquire(): Promise<boolean> {
    const ok = await this.redis.set(leaseKey(this.executionId), this.owner, { NX: true, PX: this.ttlMs })
    if (ok !== 'OK') return false
    this.timer = setInterval(() => void this.renew(), Math.floor(this.ttlMs / 3))
    this.timer.unref()
    return true
  }

  private async renew(): Promise<void> {
    try {
      await this.redis.set(leaseKey(this.executionId), this.owner, { XX: true, PX: this.ttlMs })
    } catch {
      // Redis briefly away: the next renewal retries; the lease only lapses after ttlMs.
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer)
    const current = await this.redis.get(leaseKey(this.executionId))
    if (current === this.owner) await this.redis.del(leaseKey(this.executionId))
  }
}
