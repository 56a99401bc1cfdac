import { describe, expect, it } from 'vitest'
import { runBenchmark } from '../../bench/ptc/benchmark'
import { BENCH_TASKS } from '../../bench/ptc/tasks'

describe('PTC benchmark', () => {
  it('reaches the same correct answers both ways, with PTC in one round trip and a fraction of the prompt bytes', async () => {
    const tasks = BENCH_TASKS.filter((t) => t.id === 'best-laptop' || t.id === 'order-total-eur')
    const results = await runBenchmark(tasks)
    expect(results.map((r) => r.id)).toEqual(['best-laptop', 'order-total-eur'])
    for (const r of results) {
      expect(r.ptc.correct).toBe(true)
      expect(r.baseline.correct).toBe(true)
      expect(r.ptc.roundTrips).toBe(1)
      // The baseline asks for one tool per turn: at least one trip per tool call plus the answer.
      expect(r.baseline.roundTrips).toBeGreaterThanOrEqual(5)
      expect(r.ptc.promptBytes * 4).toBeLessThan(r.baseline.promptBytes)
    }
  })
})
