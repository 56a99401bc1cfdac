import { AppError } from '../config/errors'

export interface TableSession {
  readonly id: string
  /** True while a run is in progress; busy sessions are never evicted. */
  readonly busy: boolean
  lastUsedAt: number
  close(): Promise<void>
}

/**
 * Live sessions of one adapter: at most `maxSessions`; when full, the least recently used idle
 * session is closed to make room, and sessions idle longer than `idleTimeoutMs` are closed.
 */
export class SessionTable<S extends TableSession> {
  private readonly sessions = new Map<string, S>()
  private readonly sweeper: NodeJS.Timeout

  constructor(
    private readonly maxSessions: number,
    private readonly idleTimeoutMs: number,
  ) {
    this.sweeper = setInterval(() => void this.closeIdle(), Math.min(idleTimeoutMs, 60_000))
    this.sweeper.unref()
  }

  get(id: string): S | undefined {
    return this.sessions.get(id)
  }

  get size() {
    return this.sessions.size
  }

  /** Makes room for one more session, evicting the least recently used idle one if needed. */
  async reserve(): Promise<void> {
    while (this.sessions.size >= this.maxSessions) {
      const idle = [...this.sessions.values()].filter((s) => !s.busy).sort((a, b) => a.lastUsedAt - b.lastUsedAt)[0]
      if (!idle) {
        throw new AppError('sandbox_busy', `all ${this.maxSessions} sandbox sessions are running; try again later`)
      }
      await this.remove(idle)
    }
  }

  add(session: S) {
    this.sessions.set(session.id, session)
  }

  forget(session: S) {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id)
  }

  async remove(session: S) {
    this.forget(session)
    await session.close()
  }

  async closeIdle(now = Date.now()) {
    const stale = [...this.sessions.values()].filter((s) => !s.busy && now - s.lastUsedAt > this.idleTimeoutMs)
    await Promise.all(stale.map((s) => this.remove(s)))
  }

  async closeAll() {
    clearInterval(this.sweeper)
    await Promise.all([...this.sessions.values()].map((s) => this.remove(s)))
  }
}
