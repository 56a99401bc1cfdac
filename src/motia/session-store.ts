import type { StateAdapter } from '@motiadev/core'
import type { SessionStore, SessionTurn } from '../agent/runtime'

export const SESSIONS_GROUP = 'agent-sessions'

export interface SessionRecord {
  sessionId: string
  turns: SessionTurn[]
  createdAt: string
  updatedAt: string
}

/**
 * Session history in Motia's Redis state. Turns of one session are appended one at a time (the
 * session's tasks run in order), and appending is idempotent per execution so a retried task never
 * adds its answer twice.
 */
export class RedisSessionStore implements SessionStore {
  constructor(private readonly state: StateAdapter) {}

  async get(sessionId: string): Promise<SessionRecord | null> {
    return (await this.state.get<SessionRecord>(SESSIONS_GROUP, sessionId)) ?? null
  }

  async load(sessionId: string): Promise<SessionTurn[]> {
    return (await this.get(sessionId))?.turns ?? []
  }

  async append(sessionId: string, turn: SessionTurn): Promise<void> {
    const now = new Date().toISOString()
    const record = (await this.get(sessionId)) ?? { sessionId, turns: [], createdAt: now, updatedAt: now }
    if (record.turns.some((t) => t.executionId === turn.executionId)) return
    record.turns.push(turn)
    record.updatedAt = now
    await this.state.set(SESSIONS_GROUP, sessionId, record)
  }

  async clear(sessionId: string): Promise<void> {
    await this.state.delete(SESSIONS_GROUP, sessionId)
  }
}
