import { afterAll, describe, expect, it } from 'vitest'
import { MontySandbox, type PausedProgram } from '../../src/sandbox/adapters/monty/adapter'
import { sandboxConfigSchema } from '../../src/sandbox/config'
import { makeLocalSandbox, runOptions } from './helpers'

const monty = (overrides: Record<string, unknown> = {}) => {
  const config = sandboxConfigSchema.parse({ adapters: { m: { type: 'monty', monty: overrides } } }).adapters.m
  if (config.type !== 'monty') throw new Error('expected monty')
  return new MontySandbox(config.monty)
}

describe('session limits', () => {
  const { adapter: local, workspaceRoot } = makeLocalSandbox({ maxSessions: 2, poolSize: 0 })
  afterAll(() => local.shutdown())

  it('evicts the least recently used idle session when maxSessions is reached; its handle comes back fresh', async () => {
    const a = await local.openSession({ id: 'a', workspaceDir: `${workspaceRoot}/a` })
    const b = await local.openSession({ id: 'b', workspaceDir: `${workspaceRoot}/b` })
    await b.run('x = 1', runOptions())
    await a.run('x = 2', runOptions())
    await local.openSession({ id: 'c', workspaceDir: `${workspaceRoot}/c` })
    const again = await b.run('print(x)', runOptions())
    expect(again.error?.type).toBe('NameError')
    expect(again.stderr).toContain('paused to make room')
    expect((await b.run('final_answer(3)', runOptions())).finalAnswer).toBe(3)
  })

  it('keeps a session opened but not yet run when others need room (no "closed" under load)', async () => {
    const { adapter, workspaceRoot: root } = makeLocalSandbox({ maxSessions: 2, poolSize: 0 })
    try {
      const opened = await Promise.all(
        [1, 2, 3, 4].map((i) => adapter.openSession({ id: `load-${i}`, workspaceDir: `${root}/load-${i}` })),
      )
      const results = await Promise.all(opened.map((s, i) => s.run(`final_answer(${i})`, runOptions())))
      expect(results.map((r) => r.finalAnswer)).toEqual([0, 1, 2, 3])
    } finally {
      await adapter.shutdown()
    }
  })

  it('waits for a slot when every session is running', async () => {
    const sandbox = monty({ maxSessions: 1 })
    const busy = await sandbox.openSession({ id: 'busy', workspaceDir: '/tmp/unused' })
    let release: () => void = () => {}
    const running = busy.run('slow(1)', runOptions({ invokeSkill: () => new Promise((r) => (release = () => r(1))) }))
    await new Promise((r) => setTimeout(r, 20))
    let opened = false
    const next = sandbox.openSession({ id: 'next', workspaceDir: '/tmp/unused' }).then((s) => {
      opened = true
      return s
    })
    await new Promise((r) => setTimeout(r, 100))
    expect(opened).toBe(false)
    release()
    expect((await running).ok).toBe(true)
    expect((await next).id).toBe('next')
  })
})

describe('monty durable execution', () => {
  it('pauses at a skill call, survives serialisation, and resumes to the final answer', async () => {
    const sandbox = monty()
    const code =
      'print("start")\nhits = web_search("motia", max_results=2)\nn = echo(len(hits))\nfinal_answer({"n": n})'
    const first = await sandbox.startDurable(code, ['web-search', 'echo'])
    expect(first.status).toBe('paused')
    if (first.status !== 'paused') return
    expect(first.paused.call).toEqual({ skill: 'web-search', args: ['motia'], kwargs: { max_results: 2 } })
    const stored: PausedProgram = JSON.parse(JSON.stringify(first.paused))
    const second = await sandbox.resumeDurable(stored, { ok: true, value: [{ title: 'a' }, { title: 'b' }] })
    expect(second.status === 'paused' && second.paused.call).toEqual({ skill: 'echo', args: [2], kwargs: {} })
    if (second.status !== 'paused') return
    const done = await sandbox.resumeDurable(second.paused, { ok: true, value: 2 })
    expect(done.status === 'done' && done.result).toMatchObject({
      ok: true,
      hasFinalAnswer: true,
      finalAnswer: { n: 2 },
      stdout: 'start\n',
    })
    expect(done.status === 'done' && done.result.skillCalls.map((c) => [c.skill, c.ok, c.resultBytes])).toEqual([
      ['web-search', true, 29],
      ['echo', true, 1],
    ])
  })

  it('raises a failed skill call inside the resumed program', async () => {
    const sandbox = monty()
    const first = await sandbox.startDurable('try:\n    echo(1)\nexcept Exception as e:\n    final_answer(str(e))', [
      'echo',
    ])
    if (first.status !== 'paused') throw new Error('expected a pause')
    const done = await sandbox.resumeDurable(first.paused, { ok: false, error: 'quota exceeded' })
    expect(done.status === 'done' && done.result.finalAnswer).toBe('quota exceeded')
  })
})
