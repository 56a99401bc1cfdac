/**
 * End-to-end overhead of the service: HTTP submit → completed (SSE `done`) at 1, 8 and 32 concurrent
 * clients against one and two instances, beside the same tasks run through the library directly
 * (no HTTP, no queue, no Redis state). The fake LLM answers instantly, so what is measured is the
 * framework plus the sandbox run. Usage: npm run bench:e2e [-- --tasks 64]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { loadEnv } from '../../src/config/env'
import { createAgentRuntime } from '../../src/runtime/bootstrap'
import { startFakeLlmServer } from '../../tests/fake-llm/server'
import { startRedis } from '../../tests/helpers/redis'
import { awaitDone, serverEnv } from '../../tests/integration/client'
import { type ServerProcess, startServer } from '../../tests/integration/server-process'

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '64' } } })
const TASKS = Number(values.tasks)
const LEVELS = [1, 8, 32]
const reply = 'Plan: answer.\n\n```python\nfinal_answer(sum(range(10)))\n```'

interface Figures {
  p50: number
  p95: number
  throughput: number
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

async function measure(concurrency: number, runOne: (i: number) => Promise<void>): Promise<Figures> {
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < TASKS) {
        const i = next++
        const t0 = performance.now()
        await runOne(i)
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), throughput: TASKS / seconds }
}

/** POST the task, then follow its SSE stream until the `done` event. */
async function viaHttp(base: string, task: string, sessionId: string): Promise<void> {
  const accepted = await fetch(`${base}/agent/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task, sessionId }),
  })
  if (accepted.status !== 202) throw new Error(`submit answered ${accepted.status}: ${await accepted.text()}`)
  const { executionId } = (await accepted.json()) as { executionId: string }
  const record = await awaitDone(base, executionId)
  if (record.status !== 'completed')
    throw new Error(`task ${executionId} ended ${record.status}: ${record.error?.message}`)
}

async function main() {
  const redis = await startRedis()
  const llm = await startFakeLlmServer({ responder: () => reply })
  const env = serverEnv(redis.url, llm.openaiBaseUrl, {
    AGENT_CONCURRENCY: '16',
    // Every request comes from 127.0.0.1: the per-IP limit would measure itself.
    RATE_LIMIT_IP_PER_MINUTE: '0',
  })
  const results: Record<string, Record<number, Figures>> = { library: {}, oneInstance: {}, twoInstances: {} }
  const run = Date.now()

  const lib = await createAgentRuntime(loadEnv({ ...process.env, ...env }))
  for (const c of LEVELS) {
    results.library[c] = await measure(c, async (i) => {
      // With a listener, as the server runs it: the LLM reply streams and every step is emitted.
      const record = await lib.runtime.runTask({
        task: `task ${i}`,
        sessionId: `lib-${run}-${c}-${i}`,
        onEvent: () => {},
      })
      if (record.status !== 'completed') throw new Error(`library task failed: ${record.error?.message}`)
    })
  }
  await lib.close()

  const servers: ServerProcess[] = [await startServer(env)]
  try {
    for (const c of LEVELS) {
      results.oneInstance[c] = await measure(c, (i) => viaHttp(servers[0].url, `task ${i}`, `one-${run}-${c}-${i}`))
    }
    servers.push(await startServer(env))
    for (const c of LEVELS) {
      results.twoInstances[c] = await measure(c, (i) =>
        viaHttp(servers[i % 2].url, `task ${i}`, `two-${run}-${c}-${i}`),
      )
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await llm.close()
    await redis.stop()
  }

  const rows = LEVELS.map((c) => {
    const base = results.library[c]
    const one = results.oneInstance[c]
    const two = results.twoInstances[c]
    return {
      clients: c,
      library: base,
      oneInstance: one,
      twoInstances: two,
      p50RatioOneInstance: one.p50 / base.p50,
      p50RatioTwoInstances: two.p50 / base.p50,
      throughputRatioOneInstance: one.throughput / base.throughput,
      throughputRatioTwoInstances: two.throughput / base.throughput,
    }
  })
  const fmt = (f: Figures) => `${f.p50.toFixed(1)} / ${f.p95.toFixed(1)} ms, ${f.throughput.toFixed(1)}/s`
  console.log(`\nsubmit→completed, ${TASKS} tasks per level (p50 / p95, throughput)`)
  console.log(
    'clients | library (no HTTP/queue)      | 1 instance                   | 2 instances                  | p50 ×lib (1 / 2)',
  )
  for (const r of rows) {
    console.log(
      `${String(r.clients).padStart(7)} | ${fmt(r.library).padEnd(28)} | ${fmt(r.oneInstance).padEnd(28)} | ${fmt(r.twoInstances).padEnd(28)} | ${r.p50RatioOneInstance.toFixed(2)} / ${r.p50RatioTwoInstances.toFixed(2)}`,
    )
  }
  mkdirSync('bench/results', { recursive: true })
  writeFileSync(
    'bench/results/e2e.json',
    `${JSON.stringify({ measuredAt: new Date().toISOString(), tasksPerLevel: TASKS, rows }, null, 2)}\n`,
  )
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
