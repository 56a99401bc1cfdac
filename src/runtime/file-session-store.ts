import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SessionStore, SessionTurn } from '../agent/runtime'

/**
 * Sessions as JSON files, one per session: lets consecutive CLI runs with `--session` share history.
 * Single-writer by design (one CLI process at a time); the server uses the Redis store.
 */
export class FileSessionStore implements SessionStore {
  constructor(private readonly dir: string) {}

  private file(sessionId: string): string {
    return join(this.dir, `${encodeURIComponent(sessionId)}.json`)
  }

  async load(sessionId: string): Promise<SessionTurn[]> {
    try {
      return JSON.parse(await readFile(this.file(sessionId), 'utf8')) as SessionTurn[]
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  }

  async append(sessionId: string, turn: SessionTurn): Promise<void> {
    const turns = (await this.load(sessionId)).filter((t) => t.executionId !== turn.executionId)
    turns.push(turn)
    await mkdir(this.dir, { recursive: true })
    await writeFile(this.file(sessionId), JSON.stringify(turns, null, 2))
  }

  async clear(sessionId: string): Promise<void> {
    await rm(this.file(sessionId), { force: true })
  }
}
