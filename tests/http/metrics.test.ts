import { describe, expect, it } from 'vitest'
import type { AgentStep, ExecutionRecord } from '../../src/agent/types'
import { AgentMetrics } from '../../src/motia/metrics'

const base = { startedAt: '2025-01-01T00:00:00.000Z', agent: 'master' }

function llm(index: number, model: string, input: number, output: number): AgentStep {
  return {
    ...base,
    index,
    durationMs: 800,
    type: 'llm_call',
    provider: 'anthropic',
    model,
    usage: { inputTokens: input, outputTokens: output },
    reply: '',
  }
}

function run(index: number, ok: boolean, durationMs: number, isolation?: string): AgentStep {
  return { ...base, index, durationMs, type: 'execution', ok, stdout: '', stderr: '', hasFinalAnswer: ok, isolation }
}

function skill(index: number, name: string, ok: boolean): AgentStep {
  const call = {
    id: `c${index}`,
    skill: name,
    args: [],
    kwargs: {},
    ok,
    resultBytes: 2,
    startedAt: base.startedAt,
    durationMs: 5,
  }
  return { ...base, index, durationMs: 5, type: 'skill_call', call }
}

function record(overrides: Partial<ExecutionRecord>): ExecutionRecord {
  return {
    executionId: 'exec-1',
    sessionId: 's-1',
    agent: 'master',
    status: 'completed',
    task: 't',
    result: 'r',
    error: null,
    steps: [],
    skillCalls: [],
    usage: { inputTokens: 0, outputTokens: 0, llmCalls: 0 },
    timings: { llmMs: 0, sandboxMs: 0, totalMs: 3_000 },
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:03.000Z',
    ...overrides,
  }
}

/** The value of one sample line, e.g. `agent_tasks_total{status="completed"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('AgentMetrics', () => {
  it('derives task, LLM, sandbox and skill metrics from finished records, subagent steps included', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false })
    metrics.recordExecution(
      record({
        steps: [
          llm(0, 'claude-sonnet-4-5', 1_000, 200),
          run(1, false, 120, 'local, bwrap, no network'),
          llm(2, 'claude-sonnet-4-5', 1_500, 300),
          skill(3, 'web-search', true),
          skill(4, 'web-search', false),
          run(5, true, 2_000, 'local, bwrap, no network'),
          {
            ...base,
            index: 6,
            durationMs: 900,
            type: 'delegation',
            subagent: 'researcher',
            task: 'sub',
            status: 'completed',
            steps: [llm(0, 'glm-4-plus', 50, 7), run(1, true, 4, 'monty'), skill(2, 'summarize', true)],
          },
        ],
      }),
    )
    metrics.recordExecution(
      record({ executionId: 'exec-2', status: 'failed', timings: { llmMs: 0, sandboxMs: 0, totalMs: 45_000 } }),
    )

    const text = await metrics.render()
    expect(metrics.contentType).toContain('text/plain')
    expect(sample(text, 'agent_tasks_total{status="completed"}')).toBe(1)
    expect(sample(text, 'agent_tasks_total{status="failed"}')).toBe(1)
    expect(sample(text, 'agent_task_duration_seconds_count{status="completed"}')).toBe(1)
    expect(sample(text, 'agent_task_duration_seconds_sum{status="failed"}')).toBe(45)
    expect(sample(text, 'agent_task_duration_seconds_bucket{le="5",status="completed"}')).toBe(1)
    expect(sample(text, 'agent_task_duration_seconds_bucket{le="2",status="completed"}')).toBe(0)

    expect(sample(text, 'agent_llm_calls_total{provider="anthropic",model="claude-sonnet-4-5"}')).toBe(2)
    expect(sample(text, 'agent_llm_calls_total{provider="anthropic",model="glm-4-plus"}')).toBe(1)
    expect(
      sample(text, 'agent_llm_tokens_total{provider="anthropic",model="claude-sonnet-4-5",direction="input"}'),
    ).toBe(2_500)
    expect(
      sample(text, 'agent_llm_tokens_total{provider="anthropic",model="claude-sonnet-4-5",direction="output"}'),
    ).toBe(500)

    expect(sample(text, 'agent_sandbox_runs_total{adapter="local",ok="false"}')).toBe(1)
    expect(sample(text, 'agent_sandbox_runs_total{adapter="local",ok="true"}')).toBe(1)
    expect(sample(text, 'agent_sandbox_runs_total{adapter="monty",ok="true"}')).toBe(1)
    expect(sample(text, 'agent_sandbox_run_duration_seconds_sum{adapter="local"}')).toBeCloseTo(2.12)
    expect(sample(text, 'agent_sandbox_run_duration_seconds_count{adapter="monty"}')).toBe(1)

    expect(sample(text, 'agent_skill_calls_total{skill="web-search",ok="true"}')).toBe(1)
    expect(sample(text, 'agent_skill_calls_total{skill="web-search",ok="false"}')).toBe(1)
    expect(sample(text, 'agent_skill_calls_total{skill="summarize",ok="true"}')).toBe(1)
    expect(text).toContain('# TYPE agent_task_duration_seconds histogram')
  })

  it('counts a record once even when its "finished" event is delivered again, and skips unfinished ones', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false })
    const done = record({ steps: [llm(0, 'm', 10, 1)] })
    metrics.recordExecution(done)
    metrics.recordExecution({ ...done })
    metrics.recordExecution(record({ executionId: 'exec-running', status: 'running', finishedAt: null }))
    const text = await metrics.render()
    expect(sample(text, 'agent_tasks_total{status="completed"}')).toBe(1)
    expect(sample(text, 'agent_tasks_total{status="running"}')).toBeUndefined()
    expect(sample(text, 'agent_llm_calls_total{provider="anthropic",model="m"}')).toBe(1)
  })

  it('reads queue depth and running tasks at scrape time, keeping the last depth when the read fails', async () => {
    let depth: number | Error = 7
    const metrics = new AgentMetrics({
      defaultMetrics: false,
      queueDepth: async () => {
        if (depth instanceof Error) throw depth
        return depth
      },
      runningTasks: () => 3,
    })
    let text = await metrics.render()
    expect(sample(text, 'agent_queue_depth')).toBe(7)
    expect(sample(text, 'agent_tasks_running')).toBe(3)
    depth = 2
    expect(sample(await metrics.render(), 'agent_queue_depth')).toBe(2)
    depth = new Error('redis down')
    text = await metrics.render()
    expect(sample(text, 'agent_queue_depth')).toBe(2)
  })

  it('includes process metrics by default, in a registry of its own', async () => {
    const first = new AgentMetrics()
    const second = new AgentMetrics()
    first.recordExecution(record({}))
    const text = await first.render()
    expect(text).toContain('process_cpu_user_seconds_total')
    expect(text).toContain('nodejs_eventloop_lag_seconds')
    expect(sample(await second.render(), 'agent_tasks_total{status="completed"}')).toBeUndefined()
  })
})
