import type { ExecutionStatus } from '../agent/types'
import type { ExecutionStore, StoredExecution } from './execution-store'
import type { Redis } from './redis'

const ALL = 'agent:executions:by-time'
const bySession = (sessionId: string) => `agent:executions:session:${sessionId}`

export interface ExecutionQuery {
  sessionId?: string
  status?: ExecutionStatus
  owner?: string
  limit: number
  /** Opaque cursor from a previous page. */
  cursor?: string
}

export interface ExecutionPage {
  items: StoredExecution[]
  nextCursor: string | null
}

/**
 * Time-ordered index of executions (Redis sorted sets scored by creation time), so the history can be
 * listed newest first with cursor pagination without loading every record.
 */
export class ExecutionIndex {
  constructor(
    private readonly redis: Redis,
    private readonly executions: ExecutionStore,
  ) {}

  async add(record: StoredExecution): Promise<void> {
    const score = Date.parse(record.createdAt)
    await this.redis.zAdd(ALL, { score, value: record.executionId })
    await this.redis.zAdd(bySession(record.sessionId), { score, value: record.executionId })
  }

  async remove(record: Pick<StoredExecution, 'executionId' | 'sessionId'>): Promise<void> {
    await this.redis.zRem(ALL, record.executionId)
    await this.redis.zRem(bySession(record.sessionId), record.executionId)
  }

  async sessionExecutionIds(sessionId: string): Promise<string[]> {
    return this.redis.zRange(bySession(sessionId), 0, -1)
  }

  async dropSession(sessionId: string): Promise<void> {
    await this.redis.del(bySession(sessionId))
  }

  /** Ids created before `cutoff`, oldest first (for retention). */
  async olderThan(cutoff: number, count = 500): Promise<string[]> {
    return this.redis.zRangeByScore(ALL, 0, cutoff, { LIMIT: { offset: 0, count } })
  }

  async list(query: ExecutionQuery): Promise<ExecutionPage> {
    const key = query.sessionId ? bySession(query.sessionId) : ALL
    // Cursor = "<score>:<id>" of the last item seen: the next page resumes strictly after it.
    let [maxScore, lastId] = decodeCursor(query.cursor)
    const items: StoredExecution[] = []
    const batch = 100
    let exhausted = false
    while (items.length < query.limit && !exhausted) {
      const page = await this.pageDescending(key, maxScore, lastId, batch)
      exhausted = page.length < batch
      for (const { id, score } of page) {
        maxScore = String(score)
        lastId = id
        const record = await this.executions.get(id)
        if (!record || !matches(record, query)) continue
        items.push(record)
        if (items.length === query.limit) break
      }
    }
    const more = items.length === query.limit && lastId !== undefined
    return { items, nextCursor: more ? encodeCursor(maxScore, lastId!) : null }
  }

  private async pageDescending(key: string, maxScore: string, lastId: string | undefined, count: number) {
    const rows = await this.redis.zRangeWithScores(key, maxScore, '-inf', {
      BY: 'SCORE',
      REV: true,
      LIMIT: { offset: 0, count: count + 50 },
    })
    const out: { id: string; score: number }[] = []
    let skipping = lastId !== undefined
    for (const row of rows) {
      if (skipping) {
        if (String(row.score) !== maxScore) skipping = false
        else {
          if (row.value === lastId) skipping = false
          continue
        }
      }
      out.push({ id: row.value, score: row.score })
      if (out.length === count) break
    }
    return out
  }
}

function matches(record: StoredExecution, query: ExecutionQuery): boolean {
  if (query.status && record.status !== query.status) return false
  if (query.owner !== undefined && record.owner !== query.owner) return false
  return true
}

const encodeCursor = (score: string, id: string) => Buffer.from(`${score}:${id}`).toString('base64url')

function decodeCursor(cursor?: string): [string, string | undefined] {
  if (!cursor) return ['+inf', undefined]
  const text = Buffer.from(cursor, 'base64url').toString()
  const at = text.indexOf(':')
  if (at <= 0 || Number.isNaN(Number(text.slice(0, at)))) return ['+inf', undefined]
  return [text.slice(0, at), text.slice(at + 1)]
}
