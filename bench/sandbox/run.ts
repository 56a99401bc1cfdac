/**
 * Sandbox benchmark: the same PTC-style program (three stub skill calls, then final_answer) run N
 * times by a bare `python3 -c`, each adapter (cold and warm) and smolagents' LocalPythonExecutor.
 * Usage: npx tsx bench/sandbox/run.ts [--runs 50]   Writes bench/results/sandbox.json.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { LocalPythonSandbox } from '../../src/sandbox/adapters/local/adapter'
import { resolvePythonPath } from '../../src/sandbox/adapters/local/python-path'
import { MontySandbox } from '../../src/sandbox/adapters/monty/adapter'
import { sandboxConfigSchema } from '../../src/sandbox/config'
import type { RunOptions, SandboxAdapter } from '../../src/sandbox/types'

const PROGRAM = 'results = []\nfor i in range(3):\n    results.append(lookup(i))\nfinal_answer(len(results))'
const STANDALONE = `def lookup(i):\n    return {"id": i, "title": "result %d" % i}\ndef final_answer(v):\n    print(v)\n${PROGRAM}`
const VENV = '.bench-venv'
const runsArg = process.argv.indexOf('--runs')
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 50

const options: RunOptions = {
  skills: ['lookup'],
  invokeSkill: async (call) => ({ id: call.args[0], title: `result ${call.args[0]}` }),
}

interface Figures {
  medianMs: number
  p95Ms: number
  meanMs: number
  note: string
}

function figures(samples: number[], note: string): Figures {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  const round = (n: number) => Math.round(n * 1000) / 1000
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length
  return { medianMs: round(at(0.5)), p95Ms: round(at(0.95)), meanMs: round(mean), note }
}

function check(result: { finalAnswer?: unknown; error?: { message: string } }) {
  if (result.finalAnswer !== 3) throw new Error(`benchmark program failed: ${result.error?.message}`)
}

function adapters(workspace: string) {
  const parsed = sandboxConfigSchema.parse({
    adapters: {
      cold: { type: 'local', local: { workspace, poolSize: 0 } },
      pooled: { type: 'local', local: { workspace, poolSize: 2 } },
      monty: { type: 'monty' },
    },
  }).adapters
  const local = (name: string) => {
    const c = parsed[name]
    if (c.type !== 'local') throw new Error('expected local')
    return new LocalPythonSandbox(c.local)
  }
  const m = parsed.monty
  if (m.type !== 'monty') throw new Error('expected monty')
  return { cold: local('cold'), pooled: local('pooled'), monty: new MontySandbox(m.monty) }
}

let sessions = 0
async function oneShot(adapter: SandboxAdapter, workspace: string) {
  const id = `bench-${++sessions}`
  const session = await adapter.openSession({ id, workspaceDir: join(workspace, id) })
  check(await session.run(PROGRAM, options))
  await session.close()
}

/** smolagents in a throwaway venv, driven one run per line so it shares the others' load. */
function smolagents() {
  if (!existsSync(join(VENV, 'bin/python'))) {
    console.log('creating .bench-venv with smolagents from PyPI...')
    execFileSync(resolvePythonPath('python3'), ['-m', 'venv', VENV], { stdio: 'inherit' })
    execFileSync(join(VENV, 'bin/pip'), ['install', '-q', 'smolagents==1.26.0'], { stdio: 'inherit' })
  }
  const child = spawn(join(VENV, 'bin/python'), ['bench/sandbox/smolagents_bench.py', PROGRAM], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  return {
    async run(kind: 'cold' | 'warm'): Promise<number> {
      child.stdin.write(`${kind}\n`)
      const next = await lines.next()
      if (next.done) throw new Error('smolagents benchmark process ended')
      return Number(next.value)
    },
    close: () => child.kill(),
  }
}

async function montyDurable(sandbox: MontySandbox) {
  let step = await sandbox.startDurable(PROGRAM, options.skills)
  while (step.status === 'paused') {
    const value = await options.invokeSkill(step.paused.call, new AbortController().signal)
    step = await sandbox.resumeDurable(step.paused, { ok: true, value })
  }
  check(step.result)
}

async function main() {
  const python = resolvePythonPath('python3')
  const workspace = mkdtempSync(join(tmpdir(), 'motia-bench-'))
  const { cold, pooled, monty } = adapters(workspace)
  cold.setup()
  pooled.setup()
  const smol = smolagents()
  const warmLocal = await pooled.openSession({ id: 'warm-local', workspaceDir: join(workspace, 'warm-local') })
  const warmMonty = await monty.openSession({ id: 'warm-monty', workspaceDir: join(workspace, 'warm-monty') })
  await new Promise((resolve) => setTimeout(resolve, 500))
  const timed = async (fn: () => Promise<unknown> | unknown) => {
    const started = performance.now()
    await fn()
    return performance.now() - started
  }
  const systems: [string, string, () => Promise<number>][] = [
    [
      'python3 -c (bare spawn)',
      'new interpreter per run, no isolation, stub skills in-process',
      () => timed(() => spawnSync(python, ['-c', STANDALONE])),
    ],
    ['local cold', 'new session, interpreter started for it', () => timed(() => oneShot(cold, workspace))],
    ['local pooled', 'new session served by the warm pool', () => timed(() => oneShot(pooled, workspace))],
    [
      'local warm',
      'same session, interpreter running',
      () => timed(async () => check(await warmLocal.run(PROGRAM, options))),
    ],
    ['monty cold', 'new session per run', () => timed(() => oneShot(monty, workspace))],
    ['monty warm', 'same session', () => timed(async () => check(await warmMonty.run(PROGRAM, options)))],
    [
      'monty durable',
      'stateless startDurable/resumeDurable, snapshot dumped at every call',
      () => timed(() => montyDurable(monty)),
    ],
    ['smolagents cold', 'new LocalPythonExecutor per run, in-process, not isolated', () => smol.run('cold')],
    ['smolagents warm', 'same LocalPythonExecutor, in-process, not isolated', () => smol.run('warm')],
  ]
  for (const [, , run] of systems) await run()
  // Back to back: each system runs N times in a row, as in a tight agent loop.
  const backToBack = new Map<string, number[]>(systems.map(([name]) => [name, []]))
  for (const [name, , run] of systems) {
    for (let i = 0; i < RUNS; i++) backToBack.get(name)?.push(await run())
  }
  // After idle: round-robin with a pause, as between agent steps (sleeping processes must wake up;
  // an in-process executor pays nothing for that). The pause also lets the warm pool refill.
  const afterIdle = new Map<string, number[]>(systems.map(([name]) => [name, []]))
  for (let round = 0; round < RUNS; round++) {
    for (const [name, , run] of systems) afterIdle.get(name)?.push(await run())
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  smol.close()
  const results: Record<string, Figures> = Object.fromEntries(
    systems.map(([name, note]) => [name, figures(backToBack.get(name) ?? [], note)]),
  )
  const idleResults: Record<string, Figures> = Object.fromEntries(
    systems.map(([name, note]) => [name, figures(afterIdle.get(name) ?? [], note)]),
  )
  const isolation = pooled.isolation()
  await Promise.all([cold.shutdown(), pooled.shutdown(), monty.shutdown()])

  const ratio = (a: string, b: string) => Math.round((results[a].medianMs / results[b].medianMs) * 100) / 100
  const ratios = {
    'local warm / smolagents warm': ratio('local warm', 'smolagents warm'),
    'monty warm / smolagents warm': ratio('monty warm', 'smolagents warm'),
    'local pooled / python3 -c': ratio('local pooled', 'python3 -c (bare spawn)'),
    'monty durable / smolagents warm': ratio('monty durable', 'smolagents warm'),
  }
  const targets = {
    'local warm <= 2x smolagents warm': ratios['local warm / smolagents warm'] <= 2,
    'monty warm <= 0.5x smolagents warm': ratios['monty warm / smolagents warm'] <= 0.5,
  }
  const report = {
    measuredAt: new Date().toISOString(),
    runs: RUNS,
    program: PROGRAM,
    host: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, python },
    localIsolation: isolation,
    results,
    afterIdle: idleResults,
    ratios,
    targets,
  }
  mkdirSync('bench/results', { recursive: true })
  writeFileSync('bench/results/sandbox.json', `${JSON.stringify(report, null, 2)}\n`)
  console.table(
    Object.fromEntries(
      Object.entries(results).map(([k, v]) => [
        k,
        { median_ms: v.medianMs, p95_ms: v.p95Ms, 'after idle median_ms': idleResults[k].medianMs, note: v.note },
      ]),
    ),
  )
  console.table(ratios)
  console.table(targets)
  console.log(`isolation of local: ${isolation.details.join(', ')}`)
  console.log('written: bench/results/sandbox.json')
}

await main()
