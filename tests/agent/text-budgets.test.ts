import { describe, expect, it } from 'vitest'
import { fillTemplate, renderPrompt } from '../../src/agent/prompts'
import { InMemorySessionStore, renderHistory, type SessionTurn, sessionTurnOf } from '../../src/agent/sessions'
import { estimateTokens, truncateMiddle, truncateTraceback } from '../../src/agent/truncate'
import type { ExecutionRecord } from '../../src/agent/types'

const turn = (n: number, answer: string): SessionTurn => ({
  executionId: `e${n}`,
  task: `task ${n}`,
  answer,
  status: 'completed',
  at: '2026-01-01T00:00:00.000Z',
})

describe('truncation', () => {
  it('keeps head and tail within the budget and says how much was cut', () => {
    const text = `HEAD${'x'.repeat(10_000)}TAIL`
    const out = truncateMiddle(text, 500)
    expect(out.length).toBeLessThanOrEqual(500)
    expect(out.startsWith('HEAD')).toBe(true)
    expect(out.endsWith('TAIL')).toBe(true)
    expect(out).toMatch(/\[\d+ characters omitted\]/)
    expect(truncateMiddle('short', 500)).toBe('short')
  })

  it('keeps the end of a traceback, where the error is', () => {
    const tb = `Traceback (most recent call last):\n${'  File "x", line 1\n'.repeat(500)}ValueError: bad input`
    const out = truncateTraceback(tb, 400)
    expect(out.length).toBeLessThanOrEqual(400)
    expect(out.endsWith('ValueError: bad input')).toBe(true)
  })
})

describe('prompt templates', () => {
  it('fills placeholders and refuses a missing value', () => {
    expect(fillTemplate('a {{x}} b {{y}}', { x: 1, y: 'z' })).toBe('a 1 b z')
    expect(() => fillTemplate('{{missing}}', {})).toThrow(/missing/)
    expect(renderPrompt('task', { history: '', task: 'Add 2 and 2' })).toContain('Add 2 and 2')
  })
})

describe('session history', () => {
  it('renders every turn when they fit', () => {
    const text = renderHistory([turn(1, 'Paris'), turn(2, 'Berlin')], 2_000)
    expect(text).toContain('Task: task 1')
    expect(text).toContain('Answer: Berlin')
    expect(text).not.toContain('omitted')
  })

  it('drops the oldest turns beyond the token budget, with a note', () => {
    const turns = Array.from({ length: 10 }, (_, i) => turn(i + 1, `answer ${i + 1} ${'y'.repeat(400)}`))
    const text = renderHistory(turns, 400)
    expect(estimateTokens(text)).toBeLessThan(520)
    expect(text).toContain('answer 10')
    expect(text).not.toContain('answer 1 ')
    expect(text).toMatch(/\(\d+ earlier turns omitted/)
  })

  it('keeps a shortened newest turn when even that one is over budget', () => {
    const text = renderHistory([turn(1, 'old'), turn(2, `huge ${'z'.repeat(5_000)}`)], 100)
    expect(text).toContain('Task: task 2')
    expect(text).toContain('(1 earlier turn omitted')
    expect(text.length).toBeLessThan(700)
  })

  it('is empty for a new session', () => {
    expect(renderHistory([], 1_000)).toBe('')
  })
})

describe('InMemorySessionStore', () => {
  it('appends idempotently per executionId and clears', async () => {
    const store = new InMemorySessionStore()
    await store.append('s', turn(1, 'a'))
    await store.append('s', turn(1, 'a again'))
    await store.append('s', turn(2, 'b'))
    expect((await store.load('s')).map((t) => t.answer)).toEqual(['a again', 'b'])
    await store.clear('s')
    expect(await store.load('s')).toEqual([])
  })
})

describe('sessionTurnOf', () => {
  it('keeps task, answer, status and the last program output as observations', () => {
    const step = (stdout: string, index: number) => ({
      type: 'execution' as const,
      index,
      agent: 'master',
      startedAt: '',
      durationMs: 1,
      ok: true,
      stdout,
      stderr: '',
      hasFinalAnswer: true,
    })
    const record = {
      executionId: 'e9',
      task: 'count rows',
      result: '3 rows',
      status: 'completed',
      steps: [step('first try', 0), step(`rows: 3\n${'.'.repeat(2_000)}`, 1)],
      finishedAt: '2026-01-01T00:00:00.000Z',
    } as unknown as ExecutionRecord
    const t = sessionTurnOf(record)
    expect(t).toMatchObject({ executionId: 'e9', task: 'count rows', answer: '3 rows', status: 'completed' })
    expect(t.observations?.startsWith('rows: 3')).toBe(true)
    expect(t.observations?.length).toBeLessThanOrEqual(600)
  })
})
