import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeLlmRequest, type FakeLlmServer, startFakeLlmServer } from '../fake-llm/server'
import { startRedis, type TestRedis } from '../helpers/redis'
import { awaitDone, call, serverEnv, waitForStatus } from './client'
import { type ServerProcess, startServer } from './server-process'

// Production settings: API keys on, rate limits on, one server (a second joins for the scale-out cases).

const program = (code: string) => `Plan.\n\n\`\`\`python\n${code}\n\`\`\``
const ALPHA = { authorization: 'Bearer key-alpha' }
const BETA = { 'x-api-key': 'key-beta' }
const LIMITED = { authorization: 'Bearer key-limited' }
const BURST = { authorization: 'Bearer key-burst' }
// Its own key, so polling never meets the rate limit the other tests use up.
const GAMMA = { authorization: 'Bearer key-gamma' }
const PER_KEY_LIMIT = 40

function responder(req: FakeLlmRequest) {
  const task = req.messages[0]?.content ?? ''
  if (task.includes('MARK-SEARCH')) return program('hits = web_search("motia")\nfinal_answer(len(hits))')
  if (task.includes('MARK-SLOW')) return { text: program('final_answer("slow done")'), delayMs: 5_000 }
  return program('final_answer("ok")')
}

let redis: TestRedis
let llm: FakeLlmServer
let a: ServerProcess
let b: ServerProcess | undefined
let env: Record<string, string>

beforeAll(async () => {
  redis = await startRedis()
  llm = await startFakeLlmServer({ responder })
  const keysFile = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.yaml')
  const sha = createHash('sha256').update('key-limited').digest('hex')
  writeFileSync(
    keysFile,
    `keys:\n  - id: limited\n    sha256: ${sha}\n    agents: [master]\n    skills: [web-search]\n`,
  )
  env = serverEnv(redis.url, llm.openaiBaseUrl, {
    NODE_ENV: 'production',
    AGENT_API_KEYS: 'key-alpha,key-beta,key-burst,key-gamma',
    AGENT_API_KEYS_FILE: keysFile,
    RATE_LIMIT_PER_MINUTE: String(PER_KEY_LIMIT),
    RATE_LIMIT_IP_PER_MINUTE: '0',
    SHUTDOWN_GRACE_MS: '500',
  })
  a = await startServer(env)
}, 120_000)

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await llm?.close()
  await redis?.stop()
})

describe('authentication and ownership', () => {
  it('answers 401 without a key or with a wrong one, and accepts Bearer and x-api-key', async () => {
    const none = await call(a.url, 'POST', '/agent/execute', { body: { task: 'x' } })
    expect(none.status).toBe(401)
    expect(none.body.code).toBe('unauthorized')
    expect((await call(a.url, 'GET', '/skills', { headers: { authorization: 'Bearer nope' } })).status).toBe(401)
    expect((await call(a.url, 'GET', '/skills', { headers: ALPHA })).status).toBe(200)
    expect((await call(a.url, 'GET', '/skills', { headers: BETA })).status).toBe(200)
  })

  it('answers 403 when a limited key asks for another agent or skill', async () => {
    const agent = await call(a.url, 'POST', '/agent/execute', { headers: LIMITED, body: { task: 'x', agent: 'coder' } })
    expect(agent.status).toBe(403)
    const skills = await call(a.url, 'POST', '/agent/execute', {
      headers: LIMITED,
      body: { task: 'x', availableSkills: ['web-search', 'summarize'] },
    })
    expect(skills.status).toBe(403)
    expect(skills.body.detail).toContain('summarize')
    const allowed = await call(a.url, 'POST', '/agent/execute', { headers: LIMITED, body: { task: 'MARK-SEARCH' } })
    expect(allowed.status).toBe(202)
    const record = await awaitDone(a.url, allowed.body.executionId, LIMITED)
    expect(record.status).toBe('completed')
    // Naming no skills does not widen the key: the task ran with the key's skills only.
    expect(record.availableSkills).toEqual(['web-search'])
  })

  it("hides one key's executions and sessions from another (404)", async () => {
    const sessionId = `owned-${Date.now()}`
    const mine = await call(a.url, 'POST', '/agent/execute', { headers: ALPHA, body: { task: 'mine', sessionId } })
    await awaitDone(a.url, mine.body.executionId, ALPHA)
    const id = mine.body.executionId
    expect((await call(a.url, 'GET', `/agent/executions/${id}`, { headers: BETA })).status).toBe(404)
    expect((await call(a.url, 'GET', `/agent/executions/${id}/events`, { headers: BETA })).status).toBe(404)
    expect((await call(a.url, 'POST', `/agent/executions/${id}/cancel`, { headers: BETA })).status).toBe(404)
    expect((await call(a.url, 'GET', `/agent/sessions/${sessionId}`, { headers: BETA })).status).toBe(404)
    expect((await call(a.url, 'DELETE', `/agent/sessions/${sessionId}`, { headers: BETA })).status).toBe(404)
    const intrude = await call(a.url, 'POST', '/agent/execute', { headers: BETA, body: { task: 'x', sessionId } })
    expect(intrude.status).toBe(404)
    const list = await call(a.url, 'GET', `/agent/executions?sessionId=${sessionId}`, { headers: BETA })
    expect(list.body.items).toEqual([])
    expect((await call(a.url, 'GET', `/agent/sessions/${sessionId}`, { headers: ALPHA })).status).toBe(200)
  })
})

describe('headers, metrics and history', () => {
  it('sends security headers and keeps CORS closed by default', async () => {
    const res = await call(a.url, 'GET', '/health', { headers: { origin: 'http://evil.example' } })
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBeTruthy()
    expect(res.headers.get('strict-transport-security')).toBeTruthy()
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    const internal = await call(a.url, 'GET', '/__motia/state')
    expect(internal.status).toBe(404)
  })

  it('exposes metrics of finished tasks in Prometheus format', async () => {
    const accepted = await call(a.url, 'POST', '/agent/execute', { headers: ALPHA, body: { task: 'MARK-SEARCH' } })
    await awaitDone(a.url, accepted.body.executionId, ALPHA)
    const { body, headers } = await call(a.url, 'GET', '/metrics')
    expect(headers.get('content-type')).toContain('text/plain')
    expect(body).toMatch(/^agent_tasks_total\{status="completed"\} [1-9]\d*$/m)
    expect(body).toMatch(/^agent_skill_calls_total\{skill="web-search",ok="true"\} [1-9]\d*$/m)
    expect(body).toMatch(/^agent_llm_calls_total\{provider="openai-compatible",model="fake-model"\} [1-9]\d*$/m)
    expect(body).toMatch(/^agent_task_duration_seconds_count\{status="completed"\} [1-9]\d*$/m)
    expect(body).toMatch(/^agent_sandbox_runs_total\{adapter="[^"]+",ok="true"\} [1-9]\d*$/m)
    expect(body).toMatch(/^agent_queue_depth \d+$/m)
  })

  it('lists the history newest first with cursor pagination and a status filter', async () => {
    const sessionId = `history-${Date.now()}`
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = await call(a.url, 'POST', '/agent/execute', { headers: ALPHA, body: { task: `t${i}`, sessionId } })
      ids.push(r.body.executionId)
    }
    await awaitDone(a.url, ids[4], ALPHA)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: string = `/agent/executions?sessionId=${sessionId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = await call(a.url, 'GET', query, { headers: ALPHA })
      expect(page.body).toMatchObject({ items: expect.any(Array) })
      expect(page.body.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.body.items.map((r: { executionId: string }) => r.executionId))
      cursor = page.body.nextCursor
      pages++
    } while (cursor && pages < 10)
    expect(seen).toEqual([...ids].reverse())
    const completed = await call(a.url, 'GET', `/agent/executions?sessionId=${sessionId}&status=completed&limit=50`, {
      headers: ALPHA,
    })
    expect(completed.body.items).toHaveLength(5)
    const bad = await call(a.url, 'GET', '/agent/executions?status=weird', { headers: ALPHA })
    expect(bad.status).toBe(400)
  })

  it('serves an OpenAPI 3.1 document of the API', async () => {
    const { body } = await call(a.url, 'GET', '/openapi.json')
    expect(body.openapi).toMatch(/^3\.1/)
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/agent/execute', '/agent/executions/{id}']))
  })
})

describe('two instances on one Redis', () => {
  it('holds the per-key rate limit across instances', async () => {
    b = await startServer(env)
    const both = [a, b]
    const replies = await Promise.all(
      Array.from({ length: PER_KEY_LIMIT + 10 }, (_, i) => call(both[i % 2].url, 'GET', '/skills', { headers: BURST })),
    )
    const ok = replies.filter((r) => r.status === 200)
    const limited = replies.filter((r) => r.status === 429)
    expect(ok).toHaveLength(PER_KEY_LIMIT)
    expect(limited).toHaveLength(10)
    expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThan(0)
    expect(new Set(limited.map((r) => r.body.code))).toEqual(new Set(['rate_limited']))
  }, 120_000)

  it('on SIGTERM hands a running task to the other instance, which completes it', async () => {
    const other = b as ServerProcess
    const instanceOf = async (s: ServerProcess) => (await call(s.url, 'GET', '/health')).body.instance as string
    const ids = { a: await instanceOf(a), b: await instanceOf(other) }
    const accepted = await call(a.url, 'POST', '/agent/execute', { headers: GAMMA, body: { task: 'MARK-SLOW' } })
    const running = await waitForStatus(a.url, accepted.body.executionId, ['running'], GAMMA)
    const [victim, survivor, survivorId] = running.worker === ids.a ? [a, other, ids.b] : [other, a, ids.a]
    await victim.stop()
    expect(victim.output()).toContain('handed back to the queue')
    const done = await awaitDone(survivor.url, accepted.body.executionId, GAMMA).catch((err) => {
      throw new Error(`${err}\nsurvivor log:\n${survivor.output().slice(-3000)}`)
    })
    expect(done).toMatchObject({ status: 'completed', result: 'slow done', worker: survivorId })
    if (victim === a) a = survivor
    b = undefined
  }, 180_000)

  it('turns unready when Redis stops', async () => {
    expect((await call(a.url, 'GET', '/ready')).status).toBe(200)
    await redis.stop()
    const res = await call(a.url, 'GET', '/ready')
    expect(res.status).toBe(503)
    expect(res.body.checks.redis.ok).toBe(false)
  }, 30_000)
})
