import { AppError } from '../config/errors'

export interface TableSession {
  readonly id: string
  /** True while a run is in progress; busy sessions are never evicted. */
  readonly busy: boolean
  lastUsedAt: number
  close(): Promise<void>
  /**
   * Frees the session's resources to make room, but leaves the handle usable: its next run comes
   * back with a fresh interpreter. Sessions without it are closed instead.
   */
  evict?(): Promise<void>
}

/** How long opening a session waits for a slot when every session is running. */
const SLOT_WAIT_MS = 30_000
const SLOT_POLL_MS = 25

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

  /**
   * Makes room for one more session, evicting the least recently used idle one if needed; when all
   * are running, waits for one to finish (up to 30 s).
   */
  async reserve(): Promise<void> {
    const deadline = Date.now() + SLOT_WAIT_MS
    while (this.sessions.size >= this.maxSessions) {
      const idle = [...this.sessions.values()].filter((s) => !s.busy).sort((a, b) => a.lastUsedAt - b.lastUsedAt)[0]
      if (idle) {
        await this.evict(idle)
        continue
      }
      if (Date.now() > deadline) {
        throw new AppError('sandbox_busy', `all ${this.maxSessions} sandbox sessions are running; try again later`)
      }
      await new Promise((resolve) => setTimeout(resolve, SLOT_POLL_MS))
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

  async evictNow(session: S) {
    await this.evict(session)
  }

  private async evict(session: S) {
    this.forget(session)
    await (session.evict ? session.evict() : session.close())
  }

  async closeIdle(now = Date.now()) {
    const stale = [...this.sessions.values()].filter((s) => !s.busy && now - s.lastUsedAt > this.idleTimeoutMs)
    await Promise.all(stale.map((s) => this.evict(s)))
  }

  async closeAll() {
    clearInterval(this.sweeper)
    await Promise.all([...this.sessions.values()].map((s) => this.remove(s)))
  }
}
