import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runBenchmark, type TaskResult } from './benchmark'
import { BENCH_TASKS } from './tasks'

// Usage: npx tsx bench/ptc/run.ts  — writes bench/results/ptc.json and prints the table.

const pad = (s: string | number, n: number) => String(s).padStart(n)

function table(results: TaskResult[]): string {
  const head = `${'task'.padEnd(16)} │ ${pad('PTC bytes', 10)} ${pad('≈tokens', 8)} ${pad('trips', 5)} │ ${pad('1-tool bytes', 12)} ${pad('≈tokens', 8)} ${pad('trips', 5)} │ ${pad('bytes saved', 11)}`
  const rows = results.map((r) => {
    const saved = 1 - r.ptc.promptBytes / r.baseline.promptBytes
    const ok = r.ptc.correct && r.baseline.correct ? '' : '  (answer mismatch!)'
    return `${r.id.padEnd(16)} │ ${pad(r.ptc.promptBytes, 10)} ${pad(r.ptc.promptTokensEstimate, 8)} ${pad(r.ptc.roundTrips, 5)} │ ${pad(r.baseline.promptBytes, 12)} ${pad(r.baseline.promptTokensEstimate, 8)} ${pad(r.baseline.roundTrips, 5)} │ ${pad(`${(saved * 100).toFixed(0)}%`, 11)}${ok}`
  })
  const sum = (f: (r: TaskResult) => number) => results.reduce((n, r) => n + f(r), 0)
  const total = `${'TOTAL'.padEnd(16)} │ ${pad(
    sum((r) => r.ptc.promptBytes),
    10,
  )} ${pad(
    sum((r) => r.ptc.promptTokensEstimate),
    8,
  )} ${pad(
    sum((r) => r.ptc.roundTrips),
    5,
  )} │ ${pad(
    sum((r) => r.baseline.promptBytes),
    12,
  )} ${pad(
    sum((r) => r.baseline.promptTokensEstimate),
    8,
  )} ${pad(
    sum((r) => r.baseline.roundTrips),
    5,
  )} │ ${pad(`${((1 - sum((r) => r.ptc.promptBytes) / sum((r) => r.baseline.promptBytes)) * 100).toFixed(0)}%`, 11)}`
  const rule = '─'.repeat(head.length)
  return [head, rule, ...rows, rule, total].join('\n')
}

const results = await runBenchmark(BENCH_TASKS)
const outDir = join(import.meta.dirname, '..', 'results')
mkdirSync(outDir, { recursive: true })
const file = join(outDir, 'ptc.json')
writeFileSync(
  file,
  `${JSON.stringify(
    {
      description:
        'Prompt bytes (system + messages, summed over all LLM requests of a task) and LLM round trips: programmatic tool calling vs one tool per LLM turn, same scripted model (fake LLM server) and same skills.',
      generatedAt: new Date().toISOString(),
      tasks: results,
    },
    null,
    2,
  )}\n`,
)
process.stdout.write(`${table(results)}\n\nwritten to ${file}\n`)
if (results.some((r) => !r.ptc.correct || !r.baseline.correct)) process.exitCode = 1
