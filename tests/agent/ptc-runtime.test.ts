import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AgentEvent, AgentStep } from '../../src/agent/types'
import { BIG_REPORT_MARKER } from './fixtures/skills/big-report/handler'
import { type Harness, planAndCode, promptText, startHarness } from './harness'

const solo = (over: Record<string, unknown> = {}) => ({
  defaultAgent: 'master',
  agents: { master: { description: 'test master', skills: ['lookup', 'big-report'], maxSteps: 3, ...over } },
})

const types = (steps: AgentStep[]) => steps.map((s) => s.type)

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => {
  await h.close()
})
afterEach(() => h.server.reset())

describe('PTC runtime against the fake LLM server, real sandbox and skills', () => {
  it('runs a ```python program that calls a skill and answers with final_answer', async () => {
    h.server.enqueue(planAndCode('city = lookup("capital:fr")\nfinal_answer(f"The capital is {city}")'))
    const events: AgentEvent[] = []
    const record = await h
      .runtime(solo())
      .runTask({ task: 'What is the capital of France?', onEvent: (e) => events.push(e) })

    expect(record.status).toBe('completed')
    expect(record.result).toBe('The capital is Paris')
    expect(types(record.steps)).toEqual(['llm_call', 'plan', 'code', 'skill_call', 'execution', 'final'])
    expect(record.steps.find((s) => s.type === 'code')).toMatchObject({ format: 'python-fence' })
    expect(record.skillCalls).toMatchObject([{ skill: 'lookup', args: ['capital:fr'], ok: true }])
    expect(record.usage.llmCalls).toBe(1)
    expect(record.usage.inputTokens).toBeGreaterThan(0)
    // The prompt carries the protocol and the skill as a Python signature.
    expect(h.server.requests[0].system).toMatch(/final_answer/)
    expect(h.server.requests[0].system).toMatch(/def lookup\(key: str\)/)
    // Streamed: deltas arrived, then every step as an event, ending with the final status.
    expect(events.some((e) => e.type === 'llm_delta')).toBe(true)
    expect(events.filter((e) => e.type === 'step').map((e) => (e as { step: AgentStep }).step.index)).toEqual([
      0, 1, 2, 3, 4, 5,
    ])
    expect(events.at(-1)).toEqual({ type: 'status', executionId: record.executionId, status: 'completed' })
  })

  it('runs the same loop on the monty sandbox: a failing skill call is repaired, then answered', async () => {
    h.server.enqueue(
      planAndCode('city = lookup("capital:xx")\nfinal_answer(city)'),
      planAndCode('city = lookup("capital:it")\nfinal_answer(f"The capital is {city}")'),
    )
    const record = await h.runtime(solo()).runTask({ task: 'Capital of Italy?', sandbox: 'monty' })
    expect(record.status).toBe('completed')
    expect(record.result).toBe('The capital is Rome')
    const runs = record.steps.filter((s) => s.type === 'execution')
    expect(runs.map((s) => s.ok)).toEqual([false, true])
    expect(record.skillCalls.map((c) => [c.args[0], c.ok])).toEqual([
      ['capital:xx', false],
      ['capital:it', true],
    ])
    // The repair request showed the model the skill's error.
    expect(h.server.requests[1].messages.at(-1)?.content).toMatch(/capital:xx/)
  })

  it('reads a GLM-4 style <code> program over the Anthropic wire format', async () => {
    h.server.enqueue('I will look it up.\n<code>\nfinal_answer(lookup("capital:de"))\n</code>')
    const record = await h.runtime(solo(), { api: 'anthropic' }).runTask({ task: 'Capital of Germany?' })
    expect(record.status).toBe('completed')
    expect(record.result).toBe('Berlin')
    expect(record.steps.find((s) => s.type === 'code')).toMatchObject({ format: 'code-tag' })
    expect(h.server.requests[0].api).toBe('anthropic')
  })

  it('answers a reply without code with a corrective message, then runs the next program', async () => {
    h.server.enqueue('The answer is probably Paris.', planAndCode('final_answer(lookup("capital:fr"))'))
    const record = await h.runtime(solo()).runTask({ task: 'Capital of France?' })
    expect(record.status).toBe('completed')
    expect(record.result).toBe('Paris')
    expect(h.server.requests).toHaveLength(2)
    expect(h.server.requests[1].lastUserMessage).toMatch(/contained no program/)
    expect(types(record.steps).filter((t) => t === 'code')).toHaveLength(1)
  })

  it('shows a failing program its error and traceback, and the repaired program succeeds', async () => {
    h.server.enqueue(
      planAndCode('city = lookup("capital:xx")\nfinal_answer(city)'),
      planAndCode('city = lookup("capital:fr")\nfinal_answer(city)'),
    )
    const record = await h.runtime(solo()).runTask({ task: 'Capital of France?' })
    expect(record.status).toBe('completed')
    expect(record.result).toBe('Paris')
    const repair = h.server.requests[1].lastUserMessage
    expect(repair).toMatch(/The program failed/)
    expect(repair).toMatch(/no entry for key "capital:xx"/)
    expect(repair).toMatch(/line 1/)
    const runs = record.steps.filter((s) => s.type === 'execution')
    expect(runs.map((s) => s.ok)).toEqual([false, true])
    expect(record.skillCalls.map((c) => c.ok)).toEqual([false, true])
  })

  it('fails with max_steps_exceeded and the last error when no program succeeds', async () => {
    h.server.setResponder(() => planAndCode('final_answer(undefined_name)'))
    const record = await h.runtime(solo({ maxSteps: 2 })).runTask({ task: 'anything' })
    expect(record.status).toBe('failed')
    expect(record.error).toEqual({
      code: 'max_steps_exceeded',
      message: `Agent "master" stopped after 2 steps without final_answer; last error: NameError: name 'undefined_name' is not defined`,
    })
    expect(record.usage.llmCalls).toBe(2)
  })

  it('fails with the LLM error code when the provider rejects the call', async () => {
    h.server.enqueue({ status: 401, text: 'bad key' })
    const record = await h.runtime(solo()).runTask({ task: 'anything' })
    expect(record.status).toBe('failed')
    expect(record.error?.code).toBe('llm_http_error')
    expect(record.error?.message).toMatch(/401/)
  })

  it('keeps a large skill result in the sandbox: the model sees only what the program prints', async () => {
    h.server.enqueue(
      planAndCode('report = big_report()\nprint("report length", len(report))\nraise ValueError("first look done")'),
      planAndCode('final_answer(f"{len(report.splitlines())} lines")'),
    )
    const record = await h.runtime(solo()).runTask({ task: 'How many lines has the big report?', sessionId: 'big-1' })
    expect(record.status).toBe('completed')
    expect(record.result).toBe('2 lines')
    expect(record.skillCalls[0].resultBytes).toBeGreaterThan(300_000)
    // The second request carries the observation of the first run, yet none of the report itself.
    expect(h.server.requests).toHaveLength(2)
    expect(h.server.requests[1].lastUserMessage).toMatch(/report length 300021/)
    const sent = promptText(h.server)
    expect(sent).not.toContain(BIG_REPORT_MARKER)
    expect(sent).not.toContain('row of report data')
    expect(JSON.stringify(h.server.requests.map((r) => r.rawBody)).length).toBeLessThan(20_000)
  })

  it('cancels during the LLM call: the request is aborted and the record says cancelled', async () => {
    h.server.enqueue({ text: planAndCode('final_answer(1)'), delayMs: 60_000 })
    const controller = new AbortController()
    const waiting = h.runtime(solo()).runTask({ task: 'slow model', signal: controller.signal })
    await until(() => h.server.requests.length === 1)
    controller.abort()
    const record = await waiting
    expect(record.status).toBe('cancelled')
    expect(record.error?.code).toBe('cancelled')
    expect(record.result).toBeNull()
  })

  it('cancels during the sandbox run: the program is killed and no further LLM call is made', async () => {
    h.server.enqueue(planAndCode('import time\ntime.sleep(120)\nfinal_answer("too late")'))
    const controller = new AbortController()
    const record = await h.runtime(solo()).runTask({
      task: 'slow program',
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step.type === 'code') setTimeout(() => controller.abort(), 200)
      },
    })
    expect(record.status).toBe('cancelled')
    expect(h.server.requests).toHaveLength(1)
    expect(types(record.steps)).not.toContain('final')
  })

  it('keeps a two-turn session: the second task sees the first answer and its notebook variables', async () => {
    const runtime = h.runtime(solo())
    h.server.enqueue(
      planAndCode('population = int(lookup("population:paris"))\nfinal_answer(f"Paris has {population} people")'),
    )
    const first = await runtime.runTask({ task: 'How many people live in Paris?', sessionId: 'two-turns' })
    expect(first.result).toBe('Paris has 2100000 people')

    h.server.enqueue(planAndCode('final_answer(f"Twice that is {population * 2}")'))
    const second = await runtime.runTask({ task: 'And twice that number?', sessionId: 'two-turns' })
    expect(second.status).toBe('completed')
    expect(second.result).toBe('Twice that is 4200000')
    const prompt = h.server.requests[1].messages[0].content
    expect(prompt).toMatch(/Earlier in this session/)
    expect(prompt).toMatch(/Task: How many people live in Paris\?/)
    expect(prompt).toMatch(/Answer: Paris has 2100000 people/)
  })
})

describe('tasks of one session', () => {
  it('run one after another, so a task sent while another runs still sees its answer', async () => {
    h.server.setResponder((req) =>
      /## Task\s+first task/.test(req.messages[0].content)
        ? { text: planAndCode('final_answer("alpha")'), delayMs: 300 }
        : planAndCode('final_answer("beta")'),
    )
    const runtime = h.runtime(solo())
    const [a, b] = await Promise.all([
      runtime.runTask({ task: 'first task', sessionId: 'ordered' }),
      runtime.runTask({ task: 'second task', sessionId: 'ordered' }),
    ])
    expect([a.result, b.result]).toEqual(['alpha', 'beta'])
    expect(h.server.requests.map((r) => r.messages[0].content.includes('Answer: alpha'))).toEqual([false, true])
  })

  it('a queued task cancelled before its turn ends as cancelled without calling the LLM', async () => {
    h.server.enqueue({ text: planAndCode('final_answer("slow")'), delayMs: 500 })
    const runtime = h.runtime(solo())
    const controller = new AbortController()
    const first = runtime.runTask({ task: 'slow one', sessionId: 'queued-cancel' })
    const second = runtime.runTask({ task: 'waiting one', sessionId: 'queued-cancel', signal: controller.signal })
    const settled: string[] = []
    void first.then(() => settled.push('first'))
    void second.then(() => settled.push('second'))
    controller.abort()
    expect((await second).status).toBe('cancelled')
    expect((await first).result).toBe('slow')
    // It did not wait for the running task to finish.
    expect(settled).toEqual(['second', 'first'])
    expect(h.server.requests).toHaveLength(1)
  })
})

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 10))
}
