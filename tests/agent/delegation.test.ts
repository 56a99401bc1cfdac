import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentEvent, DelegationStep } from '../../src/agent/types'
import type { FakeLlmRequest } from '../fake-llm/server'
import { type Harness, planAndCode, startHarness } from './harness'

const agents = {
  defaultAgent: 'master',
  agents: {
    master: { description: 'coordinator', skills: ['read-file'], delegates: ['researcher', 'coder'], maxSteps: 3 },
    researcher: { description: 'finds capitals', skills: ['lookup'], maxSteps: 2 },
    coder: { description: 'does arithmetic', skills: ['write-file'], maxSteps: 2 },
  },
}

const agentOf = (req: FakeLlmRequest) => /^You are (\w+)/.exec(req.system)?.[1]

/** True once `parties` different agents are waiting at the same time: only concurrent delegations get past it. */
function rendezvous(parties: number, timeoutMs: number) {
  const arrived = new Set<string>()
  let release!: () => void
  const all = new Promise<void>((r) => {
    release = r
  })
  return async (agent: string): Promise<boolean> => {
    arrived.add(agent)
    if (arrived.size === parties) release()
    const timeout = new Promise<false>((r) => setTimeout(() => r(false), timeoutMs))
    return Promise.race([all.then(() => true as const), timeout])
  }
}

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => {
  await h.close()
})

describe('delegation', () => {
  it('runs two subagents concurrently and nests their records under the master', async () => {
    const meet = rendezvous(2, 10_000)
    h.server.setResponder(async (req) => {
      const agent = agentOf(req)
      if (agent === 'master') {
        return planAndCode(
          'a, b = parallel(lambda: delegate("researcher", "Capital of France?"), lambda: delegate("coder", "What is 6*7?"))\nfinal_answer(f"{a} / {b}")',
        )
      }
      if (!(await meet(agent ?? ''))) return 'the other subagent never started: delegations ran one after the other'
      if (agent === 'researcher') return planAndCode('final_answer(lookup("capital:fr"))')
      return planAndCode('final_answer(str(6 * 7))')
    })
    const events: AgentEvent[] = []
    const record = await h
      .runtime(agents)
      .runTask({ task: 'Capital of France, and 6*7?', onEvent: (e) => events.push(e) })

    expect(record.status).toBe('completed')
    expect(record.result).toBe('Paris / 42')
    const delegations = record.steps.filter((s): s is DelegationStep => s.type === 'delegation')
    expect(delegations.map((d) => d.subagent).sort()).toEqual(['coder', 'researcher'])
    for (const d of delegations) {
      expect(d.status).toBe('completed')
      expect(d.steps.map((s) => s.type)).toEqual(
        d.subagent === 'researcher'
          ? ['llm_call', 'plan', 'code', 'skill_call', 'execution', 'final']
          : ['llm_call', 'plan', 'code', 'execution', 'final'],
      )
      expect(d.steps.every((s) => s.agent === d.subagent)).toBe(true)
    }
    expect(delegations.find((d) => d.subagent === 'researcher')?.result).toBe('Paris')
    // The subagents' prompts list only their own skills; the master's offers delegate and both specialists.
    const master = h.server.requests.find((r) => agentOf(r) === 'master')!
    expect(master.system).toMatch(/"researcher": finds capitals/)
    expect(h.server.requests.find((r) => agentOf(r) === 'coder')!.system).not.toMatch(/def lookup/)
    // Usage counts every LLM call of the tree; child steps streamed live with their delegation ref.
    expect(record.usage.llmCalls).toBe(3)
    const childEvents = events.filter((e) => e.type === 'step' && e.delegation)
    expect(new Set(childEvents.map((e) => (e as { delegation: { agent: string } }).delegation.agent))).toEqual(
      new Set(['researcher', 'coder']),
    )
    const ids = new Set(delegations.map((d) => d.delegationId))
    expect(childEvents.every((e) => ids.has((e as { delegation: { id: string } }).delegation.id))).toBe(true)
  })

  it('raises a failed subagent in the parent program, which can still answer', async () => {
    h.server.setResponder((req) => {
      if (agentOf(req) === 'master') {
        return planAndCode(
          'try:\n    r = delegate("researcher", "Capital of Atlantis?")\nexcept Exception as e:\n    r = f"unavailable ({e})"\nfinal_answer(r)',
        )
      }
      return planAndCode('final_answer(lookup("capital:atlantis"))')
    })
    const record = await h.runtime(agents).runTask({ task: 'Capital of Atlantis?' })
    expect(record.status).toBe('completed')
    expect(record.result).toMatch(
      /^unavailable \(Subagent "researcher" failed: Agent "researcher" stopped after 2 steps/,
    )
    const d = record.steps.find((s): s is DelegationStep => s.type === 'delegation')!
    expect(d.status).toBe('failed')
    expect(d.steps.filter((s) => s.type === 'execution')).toHaveLength(2)
  })

  it('shares the session workspace: a file the coder writes is read by the master', async () => {
    h.server.setResponder((req) => {
      if (agentOf(req) === 'master') {
        return planAndCode('delegate("coder", "Write notes.txt")\nfinal_answer(read_file("notes.txt"))')
      }
      return planAndCode('write_file("notes.txt", "written by coder")\nfinal_answer("done")')
    })
    const record = await h.runtime(agents).runTask({ task: 'Have the coder write notes', sessionId: 'shared-files' })
    expect(record.status).toBe('completed')
    expect(record.result).toBe('written by coder')
  })

  it('refuses agents the parent may not delegate to', async () => {
    h.server.setResponder(() =>
      planAndCode('try:\n    delegate("master", "loop forever")\nexcept Exception as e:\n    final_answer(str(e))'),
    )
    const record = await h.runtime(agents).runTask({ task: 'x' })
    expect(record.result).toMatch(/unknown agent "master"; available: researcher, coder/)
  })
})
