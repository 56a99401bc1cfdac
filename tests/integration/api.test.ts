import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeLlmRequest, type FakeLlmServer, startFakeLlmServer } from '../fake-llm/server'
import { startRedis, type TestRedis } from '../helpers/redis'
import { call, parseSse, serverEnv, waitForStatus } from './client'
import { type ServerProcess, startServer } from './server-process'

// One server (plus a second for the scale-out test) for the whole file: `motia start` takes seconds.

const program = (code: string) => `Plan: do it.\n\n\`\`\`python\n${code}\n\`\`\``
const firstPrompt = (req: FakeLlmRequest) => req.messages[0]?.content ?? ''

/** Replies keyed on markers in the task text, so concurrent tests never steal each other's replies. */
function responder(req: FakeLlmRequest) {
  const task = firstPrompt(req)
  const repairing = req.messages.length > 1
  if (task.includes('MARK-SEARCH')) {
    return program(
      'hits = web_search("motia agent", max_results=3)\nprint(len(hits))\nfinal_answer(f"found {len(hits)} hits")',
    )
  }
  if (task.includes('MARK-REPAIR')) {
    return repairing ? program('final_answer("repaired")') : program('x = 1 / 0')
  }
  // The recall task's prompt carries the session history, which mentions the first task: check it first.
  if (task.includes('MARK-RECALL')) {
    const remembered = task.match(/secret number is (\d+)/)?.[1] ?? 'nothing'
    return program(`final_answer("recalled ${remembered}")`)
  }
  if (task.includes('MARK-REMEMBER')) return program('final_answer("the secret number is 4217")')

  if (task.includes('MARK-BRIEF')) return { text: program('final_answer("brief")'), delayMs: 500 }
  if (task.includes('MARK-SLOW')) return { text: program('final_answer("slow done")'), delayMs: 6_000 }
  if (task.includes('MARK-HANG')) return { text: program('final_answer("never")'), delayMs: 60_000 }
  return program('final_answer("ok")')
}

let redis: TestRedis
let llm: FakeLlmServer
let a: ServerProcess
let env: Record<string, string>

const post = async (base: string, path: string, body: unknown) => call(base, 'POST', path, { body })
const get = (base: string, path: string) => call(base, 'GET', path)
const waitFor = (base: string, id: string, statuses: string[], timeoutMs?: number) =>
  waitForStatus(base, id, statuses, {}, timeoutMs)

beforeAll(async () => {
  redis = await startRedis()
  llm = await startFakeLlmServer({ responder })
  // Rate limits are the hardening suite's subject; here every poll comes from 127.0.0.1.
  env = serverEnv(redis.url, llm.openaiBaseUrl, {
    AGENT_API_KEYS: '',
    AGENT_CONCURRENCY: '4',
    RATE_LIMIT_IP_PER_MINUTE: '0',
  })
  a = await startServer(env)
}, 120_000)

afterAll(async () => {
  await a?.stop()
  await llm?.close()
  await redis?.stop()
})

describe('agent API over HTTP', () => {
  it('runs a task to completed with its skill calls recorded', async () => {
    const accepted = await post(a.url, '/agent/execute', { task: 'Search the docs. MARK-SEARCH' })
    expect(accepted.status).toBe(202)
    expect(accepted.body).toMatchObject({ status: 'queued' })
    const record = await waitFor(a.url, accepted.body.executionId, ['completed', 'failed'])
    expect(record.status).toBe('completed')
    expect(record.result).toMatch(/^found \d+ hits$/)
    expect(record.skillCalls).toHaveLength(1)
    expect(record.skillCalls[0]).toMatchObject({ skill: 'web-search', ok: true })
    expect(record.steps.map((s: { type: string }) => s.type)).toEqual(
      expect.arrayContaining(['llm_call', 'code', 'skill_call', 'execution', 'final']),
    )
    expect(record.usage.llmCalls).toBe(1)
    expect(record.finishedAt).not.toBeNull()
  })

  it('streams progress as Server-Sent Events, in order, ending with the final status', async () => {
    const accepted = await post(a.url, '/agent/execute', { task: 'Fail, then repair. MARK-REPAIR' })
    const res = await fetch(`${a.url}/agent/executions/${accepted.body.executionId}/events`)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const text = await res.text()
    const events = parseSse(text)
    const steps = events.filter((e) => e.event === 'step').map((e) => e.data)
    expect(steps.map((s) => s.index)).toEqual([...steps.keys()])
    expect(steps.filter((s) => s.type === 'execution').map((s) => s.ok)).toEqual([false, true])
    const last = events.at(-1)
    expect(last?.event).toBe('done')
    expect(last?.data).toMatchObject({ status: 'completed', result: 'repaired' })
  })

  it('keeps a two-turn session: the second task sees the first answer', async () => {
    const sessionId = `s-${Date.now()}`
    const first = await post(a.url, '/agent/execute', { task: 'Remember this. MARK-REMEMBER', sessionId })
    const second = await post(a.url, '/agent/execute', { task: 'What was the number? MARK-RECALL', sessionId })
    const r2 = await waitFor(a.url, second.body.executionId, ['completed', 'failed'])
    const r1 = await waitFor(a.url, first.body.executionId, ['completed', 'failed'])
    expect(r1.result).toBe('the secret number is 4217')
    expect(r2.result).toBe('recalled 4217')
    expect(Date.parse(r2.startedAt)).toBeGreaterThanOrEqual(Date.parse(r1.finishedAt))
    const session = await get(a.url, `/agent/sessions/${sessionId}`)
    expect(session.body.turns.map((t: { executionId: string }) => t.executionId)).toEqual([
      first.body.executionId,
      second.body.executionId,
    ])
  })

  it('cancels a running task', async () => {
    const accepted = await post(a.url, '/agent/execute', { task: 'Take forever. MARK-HANG' })
    const id = accepted.body.executionId
    await waitFor(a.url, id, ['running'])
    const cancel = await post(a.url, `/agent/executions/${id}/cancel`, {})
    expect(cancel.status).toBe(202)
    const record = await waitFor(a.url, id, ['cancelled', 'failed', 'completed'], 20_000)
    expect(record.status).toBe('cancelled')
    const again = await post(a.url, `/agent/executions/${id}/cancel`, {})
    expect(again.status).toBe(409)
  })

  it('rejects bad input with a JSON problem and queues nothing', async () => {
    const before = (await get(a.url, '/agent/executions?limit=200')).body.items.length
    const malformed = await post(a.url, '/agent/execute', '{"task": ')
    expect(malformed.status).toBe(400)
    expect(malformed.body).toMatchObject({ status: 400 })
    const missing = await post(a.url, '/agent/execute', { sessionId: 'x' })
    expect(missing.status).toBe(400)
    expect(missing.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'task' })]))
    const wrongType = await post(a.url, '/agent/execute', { task: 'x', availableSkills: 'web-search' })
    expect(wrongType.body.errors[0].path).toBe('availableSkills')
    const unknownSkill = await post(a.url, '/agent/execute', { task: 'x', availableSkills: ['no-such-skill'] })
    expect(unknownSkill.status).toBe(400)
    expect(unknownSkill.body.detail).toContain('no-such-skill')
    const unknownAgent = await post(a.url, '/agent/execute', { task: 'x', agent: 'nobody' })
    expect(unknownAgent.status).toBe(404)
    const huge = await post(a.url, '/agent/execute', { task: 'x'.repeat(3_000_000) })
    expect(huge.status).toBe(413)
    expect((await get(a.url, '/agent/executions/does-not-exist')).status).toBe(404)
    const after = (await get(a.url, '/agent/executions?limit=200')).body.items.length
    expect(after).toBe(before)
  })

  it('fails a task with the provider error when the LLM is unreachable, and stays up', async () => {
    // Its own Redis: on the shared one, the healthy instance would take the task.
    const ownRedis = await startRedis()
    const broken = await startServer({ ...env, REDIS_URL: ownRedis.url, LLM_BASE_URL: 'http://127.0.0.1:9/v1' })
    try {
      const accepted = await post(broken.url, '/agent/execute', { task: 'anything' })
      const record = await waitFor(broken.url, accepted.body.executionId, ['failed', 'completed'])
      expect(record.status).toBe('failed')
      expect(record.error.message).toContain('127.0.0.1:9')
      expect((await get(broken.url, '/health')).status).toBe(200)
    } finally {
      await broken.stop()
      await ownRedis.stop()
    }
  })

  it('recovers after Redis restarts while idle', async () => {
    await redis.restart()
    await sleep(1_500)
    const accepted = await post(a.url, '/agent/execute', { task: 'after restart' })
    expect(accepted.status).toBe(202)
    const record = await waitFor(a.url, accepted.body.executionId, ['completed', 'failed'])
    expect(record.status).toBe('completed')
  })

  it('two instances share the work; killing one mid-task loses nothing and answers once', async () => {
    const b = await startServer(env)
    try {
      const sessionId = `scale-${Date.now()}`
      const ids: string[] = []
      const instanceOf = async (s: ServerProcess) => (await get(s.url, '/health')).body.instance as string
      const [idA, idB] = [await instanceOf(a), await instanceOf(b)]
      // More brief tasks than one instance has slots, so both must take some.
      for (let i = 0; i < 10; i++) {
        ids.push((await post(a.url, '/agent/execute', { task: `Brief ${i}. MARK-BRIEF` })).body.executionId)
      }
      const slow = await post(b.url, '/agent/execute', { task: 'Slow one. MARK-SLOW', sessionId })
      const records = await Promise.all(ids.map((id) => waitFor(a.url, id, ['completed', 'failed'])))
      expect(records.every((r) => r.status === 'completed')).toBe(true)
      expect(new Set(records.map((r) => r.worker))).toEqual(new Set([idA, idB]))

      const running = await waitFor(b.url, slow.body.executionId, ['running'])
      const victim = running.worker === idA ? a : b
      const survivor = victim === a ? b : a
      await victim.kill()
      const done = await waitFor(survivor.url, slow.body.executionId, ['completed', 'failed'], 90_000)
      expect(done.status).toBe('completed')
      expect(done.result).toBe('slow done')
      const session = await get(survivor.url, `/agent/sessions/${sessionId}`)
      expect(session.body.turns).toHaveLength(1)
      expect(session.body.turns[0].answer).toBe('slow done')
      expect(done.worker).toBe(await instanceOf(survivor))
    } finally {
      await b.stop()
    }
  }, 150_000)
})
