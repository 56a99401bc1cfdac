import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SandboxAdapter, SandboxSession } from '../../src/sandbox/types'
import { runOptions } from './helpers'

/** What an adapter supports beyond the common core; tests for missing features assert the limitation. */
export interface SandboxCapabilities {
  /** Full CPython (classes, stdlib); monty runs a subset. */
  fullPython: boolean
  /** Functions defined in one run are callable in the next. */
  functionsPersist: boolean
  /** `parallel(...)` issues skill calls concurrently. */
  concurrentSkillCalls: boolean
  /** A timed-out run loses the session's variables (the interpreter is killed). */
  timeoutLosesState: boolean
}

type Setup = { adapter: SandboxAdapter; workspaceRoot: string }

/** Every adapter runs this suite: notebook sessions, final_answer, errors, skills, limits. */
export function runConformanceSuite(name: string, makeAdapter: () => Setup, caps: SandboxCapabilities) {
  describe(`sandbox conformance: ${name}`, () => {
    let setup: Setup
    let counter = 0
    const open = (): Promise<SandboxSession> => {
      counter++
      return setup.adapter.openSession({ id: `s${counter}`, workspaceDir: `${setup.workspaceRoot}/s${counter}` })
    }

    beforeAll(() => {
      setup = makeAdapter()
    })
    afterAll(async () => {
      await setup.adapter.shutdown()
    })

    it('passes its own readiness check', async () => {
      expect((await setup.adapter.check()).ok).toBe(true)
    })

    it('keeps variables within a session and not across sessions', async () => {
      const a = await open()
      const b = await open()
      expect((await a.run('total = 40\nitems = [1, 2]', runOptions())).ok).toBe(true)
      const again = await a.run('total += 2\nitems.append(3)\nfinal_answer([total, items])', runOptions())
      expect(again.finalAnswer).toEqual([42, [1, 2, 3]])
      const other = await b.run('print(total)', runOptions())
      expect(other.ok).toBe(false)
      expect(other.error?.type).toBe('NameError')
      expect(await setup.adapter.openSession({ id: a.id, workspaceDir: a.workspaceDir })).toBe(a)
      expect((await a.run('if total > 100:\n    never = 1\nseen = (1, "t")', runOptions())).ok).toBe(true)
      expect((await a.run('final_answer([seen[1], total])', runOptions())).finalAnswer).toEqual(['t', 42])
      expect((await a.run('never', runOptions())).error?.type).toBe('NameError')
      await a.close()
      await b.close()
    })

    it(`functions ${caps.functionsPersist ? 'persist' : 'persist only as documented'} between runs`, async () => {
      const s = await open()
      await s.run('import math\ndef area(r):\n    return round(math.pi * r * r, 2)', runOptions())
      const r = await s.run('final_answer(area(1))', runOptions())
      expect(r.finalAnswer).toBe(3.14)
      await s.close()
    })

    it('final_answer ends the program early and JSON values round-trip', async () => {
      const s = await open()
      const value = { a: [1, 2.5, 'x', null, true], nested: { k: 'ü' } }
      const r = await s.run(
        `print("before")\nfinal_answer(${JSON.stringify(value).replace(/null/g, 'None').replace(/true/g, 'True')})\nprint("after")`,
        runOptions(),
      )
      expect(r.ok).toBe(true)
      expect(r.hasFinalAnswer).toBe(true)
      expect(r.finalAnswer).toEqual(value)
      expect(r.stdout).toBe('before\n')
      const none = await s.run('final_answer(None)', runOptions())
      expect(none.hasFinalAnswer).toBe(true)
      expect(none.finalAnswer).toBeNull()
      const plain = await s.run('print("just printed")', runOptions())
      expect(plain.hasFinalAnswer).toBe(false)
      expect(plain.stdout).toBe('just printed\n')
      await s.close()
    })

    it('reports exceptions with type, message and traceback', async () => {
      const s = await open()
      const r = await s.run('def inner(x):\n    return 10 / x\n\ninner(0)', runOptions())
      expect(r.ok).toBe(false)
      expect(r.error?.type).toBe('ZeroDivisionError')
      expect(r.error?.message).toContain('division by zero')
      expect(r.error?.traceback).toMatch(/line 4/)
      expect(r.error?.traceback).toMatch(/line 2, in inner/)
      const syntax = await s.run('x = (1,', runOptions())
      expect(syntax.ok).toBe(false)
      expect(syntax.error?.type).toBe('SyntaxError')
      await s.close()
    })

    it('calls skills with args and kwargs and records every call', async () => {
      const s = await open()
      const r = await s.run(
        'r = echo(1, "two", flag=True, opts={"k": [1, 2]})\nhits = web_search("motia", max_results=2)\nfinal_answer([r, hits[0]["title"]])',
        runOptions(),
      )
      expect(r.error).toBeUndefined()
      expect(r.finalAnswer).toEqual([{ args: [1, 'two'], kwargs: { flag: true, opts: { k: [1, 2] } } }, 'about motia'])
      expect(r.skillCalls.map((c) => c.skill)).toEqual(['echo', 'web-search'])
      const [echo] = r.skillCalls
      expect(echo).toMatchObject({ ok: true, args: [1, 'two'], kwargs: { flag: true, opts: { k: [1, 2] } } })
      expect(echo.resultBytes).toBe(
        JSON.stringify({ args: [1, 'two'], kwargs: { flag: true, opts: { k: [1, 2] } } }).length,
      )
      expect(echo.resultPreview).toContain('"args"')
      await s.close()
    })

    it('turns a skill error into a Python exception the program can catch', async () => {
      const s = await open()
      const caught = await s.run(
        'try:\n    fail("please")\nexcept Exception as e:\n    final_answer("caught: " + str(e))',
        runOptions(),
      )
      expect(caught.finalAnswer).toBe('caught: fail was asked to fail: please')
      expect(caught.skillCalls[0]).toMatchObject({ skill: 'fail', ok: false, error: 'fail was asked to fail: please' })
      const uncaught = await s.run('fail("loud")', runOptions())
      expect(uncaught.ok).toBe(false)
      expect(uncaught.error?.message).toContain('fail was asked to fail: loud')
      const unknown = await s.run('not_a_skill(1)', runOptions())
      expect(unknown.error?.type).toBe('NameError')
      await s.close()
    })

    it('hands large skill results to the program whole', async () => {
      const s = await open()
      const r = await s.run('data = big(2000000)\nfinal_answer(len(data))', runOptions())
      expect(r.finalAnswer).toBe(2_000_000)
      expect(r.skillCalls[0].resultBytes).toBe(2_000_002)
      expect(r.skillCalls[0].resultPreview?.length).toBeLessThanOrEqual(200)
      await s.close()
    })

    it(`${caps.concurrentSkillCalls ? 'issues' : 'does not offer'} concurrent skill calls`, async () => {
      const s = await open()
      const invokeStarts: number[] = []
      let inFlight = 0
      let maxInFlight = 0
      const options = runOptions({
        invokeSkill: async (call) => {
          invokeStarts.push(Date.now())
          inFlight++
          maxInFlight = Math.max(maxInFlight, inFlight)
          await new Promise((resolve) => setTimeout(resolve, 100))
          inFlight--
          return call.args[0]
        },
      })
      const r = await s.run('final_answer(parallel(lambda: slow(1), lambda: slow(2), lambda: slow(3)))', options)
      if (caps.concurrentSkillCalls) {
        expect(r.finalAnswer).toEqual([1, 2, 3])
        expect(maxInFlight).toBe(3)
      } else {
        expect(r.ok).toBe(false)
        expect(maxInFlight).toBeLessThanOrEqual(1)
      }
      await s.close()
    })

    it('stops `while True: pass` at the timeout and stays usable', async () => {
      const s = await open()
      await s.run('kept = 7', runOptions())
      const r = await s.run('while True:\n    pass', runOptions({ timeoutMs: 1000 }))
      expect(r.ok).toBe(false)
      expect(r.error?.type).toBe('TimeoutError')
      const after = await s.run('final_answer(kept)', runOptions())
      if (caps.timeoutLosesState) {
        expect(after.error?.type).toBe('NameError')
        expect(r.error?.message).toContain('variables were lost')
      } else {
        expect(after.finalAnswer).toBe(7)
      }
      expect((await s.run('final_answer(1 + 1)', runOptions())).finalAnswer).toBe(2)
      await s.close()
    })

    it('contains a memory bomb', async () => {
      const s = await open()
      const r = await s.run(
        'blocks = []\nwhile True:\n    blocks.append("x" * 10_000_000)',
        runOptions({ timeoutMs: 10_000 }),
      )
      expect(r.ok).toBe(false)
      expect(r.error?.type).toMatch(/MemoryError|SandboxCrash|ResourceError/)
      expect((await s.run('final_answer("alive")', runOptions())).finalAnswer).toBe('alive')
      await s.close()
    })

    it('caps an output flood', async () => {
      const s = await open()
      const r = await s.run('for i in range(200000):\n    print("flood line", i)\nfinal_answer("done")', runOptions())
      expect(r.finalAnswer).toBe('done')
      expect(Buffer.byteLength(r.stdout)).toBeLessThan(70 * 1024)
      expect(r.stdout).toMatch(/output truncated/)
      await s.close()
    })

    if (caps.fullPython) {
      it('runs full CPython: classes and the standard library', async () => {
        const s = await open()
        const r = await s.run(
          'import collections\nclass P:\n    def __init__(self, n):\n        self.n = n\nfinal_answer(collections.Counter("abca")["a"] + P(1).n)',
          runOptions(),
        )
        expect(r.finalAnswer).toBe(3)
        await s.close()
      })
    }
  })
}
