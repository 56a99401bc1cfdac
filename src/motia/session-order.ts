import type { Redis } from './redis'

const queueKey = (sessionId: string) => `agent:session-queue:${sessionId}`

/**
 * Keeps the tasks of one session in submission order across all instances: each execution takes a
 * ticket when it is accepted and may run only while it is at the head of its session's list.
 * The ticket is returned after the session history has been written, so the next task sees it.
 */
export class SessionOrder {
  constructor(private readonly redis: Redis) {}

  async enqueue(sessionId: string, executionId: string): Promise<void> {
    await this.redis.rPush(queueKey(sessionId), executionId)
  }

  async head(sessionId: string): Promise<string | null> {
    return this.redis.lIndex(queueKey(sessionId), 0)
  }

  async release(sessionId: string, executionId: string): Promise<void> {
    await this.redis.lRem(queueKey(sessionId), 0, executionId)
  }

  async position(sessionId: string, executionId: string): Promise<number> {
    const pos = await this.redis.lPos(queueKey(sessionId), executionId)
    return pos ?? -1
  }

  async clear(sessionId: string): Promise<void> {
    await this.redis.del(queueKey(sessionId))
  }
}
