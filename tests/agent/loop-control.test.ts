import { describe, expect, it } from 'vitest'
import type { AgentsConfig } from '../../src/agent/agents-config'
import { AgentRuntime, InMemorySessionStore } from '../../src/agent/runtime'
import type { LlmClient, LlmRequest } from '../../src/llm/types'
import type { RunOptions, RunResult, SandboxAdapter, SandboxSession } from '../../src/sandbox/types'
import type { SkillCatalog } from '../../src/skills/types'

// Control-flow checks of the loop with in-test doubles; the real layers are covered in ptc-runtime.test.ts.

type Program = (opts: RunOptions) => Promise<Partial<RunResult>>

function doubles(replies: string[], programs: Record<string, Program>) {
  const requests: LlmRequest[] = []
  const llm: LlmClient = {
    name: 'double',
    providerType: 'scripted',
    model: 'double-1',
    async generate(request) {
      requests.push({ ...request, messages: request.messages.map((m) => ({ ...m })) })
      const text = replies.shift()
      if (text === undefined) throw Object.assign(new Error('script exhausted'), { code: 'llm_script_exhausted' })
      return {
        text,
        usage: { inputTokens: 10, outputTokens: 5 },
        latencyMs: 1,
        provider: 'scripted',
        model: 'double-1',
        finishReason: 'stop',
      }
    },
  }
  const session: SandboxSession = {
    id: 's',
    workspaceDir: '/tmp/x',
    async run(code, opts) {
      const program = programs[code.trim()]
      if (!program) throw new Error(`no program double for ${code}`)
      return {
        ok: true,
        hasFinalAnswer: false,
        stdout: '',
        stderr: '',
        skillCalls: [],
        durationMs: 1,
        isolation: { adapter: 'double', network: false, details: [] },
        ...(await program(opts)),
      }
    },
    async close() {},
  }
  const sandbox: SandboxAdapter = {
    type: 'double',
    openSession: async () => session,
    check: async () => ({ ok: true, detail: '' }),
    shutdown: async () => {},
  }
  const skills: SkillCatalog = {
    list: () => [],
    get: () => undefined,
    renderCatalog: () => '',
    createInvoker: () => async (call) => {
      throw new Error(`no skill ${call.skill}`)
    },
  }
  return { requests, llm: { get: () => llm }, sandboxes: { get: () => sandbox }, skills }
}

const fence = (code: string) => `Plan: do it.\n\`\`\`python\n${code}\n\`\`\``

function runtime(d: ReturnType<typeof doubles>, agents: AgentsConfig['agents'], limits = {}) {
  return new AgentRuntime({
    ...d,
    agents: { defaultAgent: 'master', agents },
    sessions: new InMemorySessionStore(),
    workspaceRoot: '/tmp/agent-loop-test',
    limits,
  })
}

const agent = (over: Partial<AgentsConfig['agents'][string]> = {}): AgentsConfig['agents'][string] => ({
  description: 'test agent',
  instructions: '',
  skills: [],
  delegates: [],
  maxSteps: 4,
  planning: 'inline',
  outputIsAnswer: true,
  timeoutMs: 1000,
  ...over,
})

describe('agent loop control flow', () => {
  it('answers with the printed output when the program ends without final_answer', async () => {
    const d = doubles([fence('print(42)')], { 'print(42)': async () => ({ stdout: '42\n' }) })
    const record = await runtime(d, { master: agent() }).runTask({ task: 't' })
    expect(record.status).toBe('completed')
    expect(record.result).toBe('42')
    expect(record.steps.map((s) => s.type)).toEqual(['llm_call', 'plan', 'code', 'execution', 'final'])
  })

  it('with outputIsAnswer false, shows the output and continues until final_answer', async () => {
    const d = doubles([fence('print(1)'), fence('final_answer(2)')], {
      'print(1)': async () => ({ stdout: 'one\n' }),
      'final_answer(2)': async () => ({ hasFinalAnswer: true, finalAnswer: 2 }),
    })
    const record = await runtime(d, { master: agent({ outputIsAnswer: false }) }).runTask({ task: 't' })
    expect(record.result).toBe('2')
    expect(d.requests[1].messages.at(-1)?.content).toContain('one')
  })

  it('two-call planning asks for a plan first, then for code that sees the plan', async () => {
    const d = doubles(['1. add the numbers', fence('final_answer(3)')], {
      'final_answer(3)': async () => ({ hasFinalAnswer: true, finalAnswer: 3 }),
    })
    const record = await runtime(d, { master: agent({ planning: 'separate' }) }).runTask({ task: 'add 1 and 2' })
    expect(record.status).toBe('completed')
    expect(record.usage.llmCalls).toBe(2)
    expect(d.requests[0].messages[0].content).toMatch(/short numbered plan/)
    expect(d.requests[1].messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user'])
    expect(record.steps.find((s) => s.type === 'plan')).toMatchObject({ plan: '1. add the numbers' })
  })

  it('stops the whole tree at the execution-wide step budget', async () => {
    const d = doubles([fence('boom()'), fence('boom()'), fence('boom()')], {
      'boom()': async () => ({
        ok: false,
        error: { type: 'NameError', message: "name 'boom' is not defined", traceback: '' },
      }),
    })
    const record = await runtime(d, { master: agent({ maxSteps: 10 }) }, { maxTotalSteps: 2 }).runTask({ task: 't' })
    expect(record.status).toBe('failed')
    expect(record.error?.code).toBe('step_budget_exceeded')
    expect(record.usage.llmCalls).toBe(2)
  })

  it('refuses delegation beyond the depth limit with an error the program sees', async () => {
    const delegateCall: Program = async (opts) => {
      try {
        await opts.invokeSkill({ skill: 'delegate', args: ['helper', 'sub'], kwargs: {} }, new AbortController().signal)
        return { hasFinalAnswer: true, finalAnswer: 'delegated' }
      } catch (err) {
        return { hasFinalAnswer: true, finalAnswer: (err as Error).message }
      }
    }
    const d = doubles([fence('go()')], { 'go()': delegateCall })
    const agents = { master: agent({ delegates: ['helper'] }), helper: agent() }
    const record = await runtime(d, agents, { maxDepth: 0 }).runTask({ task: 't' })
    expect(record.result).toMatch(/depth limit \(0\) reached/)
  })

  it('fails with the LLM error code when the provider call fails', async () => {
    const d = doubles([], {})
    const record = await runtime(d, { master: agent() }).runTask({ task: 't' })
    expect(record.status).toBe('failed')
    expect(record.error).toEqual({ code: 'llm_script_exhausted', message: 'script exhausted' })
  })

  it('rejects a task skill list that widens the agent', async () => {
    const d = doubles([], {})
    d.skills.list = () => [{ name: 'web-search', pythonName: 'web_search' } as never]
    d.skills.get = (n) => (n === 'web-search' ? ({ name: 'web-search' } as never) : undefined)
    const record = await runtime(d, { master: agent({ skills: [] }) }).runTask({
      task: 't',
      availableSkills: ['web_search'],
    })
    expect(record.error?.code).toBe('skill_not_allowed')
  })
})
