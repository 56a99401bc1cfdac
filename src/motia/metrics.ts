import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { AgentStep, ExecutionRecord } from '../agent/types'

export interface AgentMetricsOptions {
  /** Jobs waiting in the task queue; read on every scrape. */
  queueDepth?: () => number | Promise<number>
  /** Tasks this instance is running right now; read on every scrape. */
  runningTasks?: () => number
  /** Node process metrics (CPU, memory, event loop, GC); on unless a test turns them off. */
  defaultMetrics?: boolean
}

/** Finished executions remembered so that a redelivered "finished" event is not counted twice. */
const DEDUPE_WINDOW = 10_000

/**
 * Prometheus metrics of the agent service, in a registry of its own (served at GET /metrics).
 * Task, LLM, sandbox and skill figures all come from the finished ExecutionRecord, the one shape
 * the API and the stream use too.
 */
export class AgentMetrics {
  readonly registry = new Registry()
  private readonly recorded = new Set<string>()

  private readonly tasks = new Counter({
    name: 'agent_tasks_total',
    help: 'Finished agent tasks by final status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  })
  private readonly taskDuration = new Histogram({
    name: 'agent_task_duration_seconds',
    help: 'Time from a task starting to run until it finished',
    labelNames: ['status'] as const,
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  })
  private readonly llmCalls = new Counter({
    name: 'agent_llm_calls_total',
    help: 'LLM calls by provider and model',
    labelNames: ['provider', 'model'] as const,
    registers: [this.registry],
  })
  private readonly llmTokens = new Counter({
    name: 'agent_llm_tokens_total',
    help: 'LLM tokens by provider, model and direction (input|output)',
    labelNames: ['provider', 'model', 'direction'] as const,
    registers: [this.registry],
  })
  private readonly sandboxRuns = new Counter({
    name: 'agent_sandbox_runs_total',
    help: 'Programs run in a sandbox by adapter and outcome',
    labelNames: ['adapter', 'ok'] as const,
    registers: [this.registry],
  })
  private readonly sandboxDuration = new Histogram({
    name: 'agent_sandbox_run_duration_seconds',
    help: 'Duration of one sandbox program run',
    labelNames: ['adapter'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  })
  private readonly skillCalls = new Counter({
    name: 'agent_skill_calls_total',
    help: 'Skill calls made by programs, by skill and outcome',
    labelNames: ['skill', 'ok'] as const,
    registers: [this.registry],
  })

  constructor(options: AgentMetricsOptions = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry })
    const { queueDepth, runningTasks } = options
    if (queueDepth) {
      new Gauge({
        name: 'agent_queue_depth',
        help: 'Agent tasks waiting in the queue',
        registers: [this.registry],
        async collect() {
          // A failed read keeps the last value rather than failing the whole scrape.
          const depth = await Promise.resolve()
            .then(queueDepth)
            .catch(() => undefined)
          if (depth !== undefined) this.set(depth)
        },
      })
    }
    if (runningTasks) {
      new Gauge({
        name: 'agent_tasks_running',
        help: 'Agent tasks running on this instance',
        registers: [this.registry],
        collect() {
          this.set(runningTasks())
        },
      })
    }
  }

  get contentType(): string {
    return this.registry.contentType
  }

  render(): Promise<string> {
    return this.registry.metrics()
  }

  /** Counts a finished execution once; records that are not finished yet are ignored. */
  recordExecution(record: ExecutionRecord): void {
    if (!record.finishedAt || record.status === 'queued' || record.status === 'running') return
    if (this.recorded.has(record.executionId)) return
    this.remember(record.executionId)
    this.tasks.inc({ status: record.status })
    const seconds = taskSeconds(record)
    if (seconds !== undefined) this.taskDuration.observe({ status: record.status }, seconds)
    for (const step of flatten(record.steps)) this.recordStep(step)
  }

  private recordStep(step: AgentStep): void {
    if (step.type === 'llm_call') {
      const labels = { provider: step.provider, model: step.model }
      this.llmCalls.inc(labels)
      this.llmTokens.inc({ ...labels, direction: 'input' }, step.usage.inputTokens)
      this.llmTokens.inc({ ...labels, direction: 'output' }, step.usage.outputTokens)
    } else if (step.type === 'execution') {
      const adapter = adapterOf(step.isolation)
      this.sandboxRuns.inc({ adapter, ok: String(step.ok) })
      this.sandboxDuration.observe({ adapter }, step.durationMs / 1000)
    } else if (step.type === 'skill_call') {
      this.skillCalls.inc({ skill: step.call.skill, ok: String(step.call.ok) })
    }
  }

  private remember(executionId: string): void {
    this.recorded.add(executionId)
    if (this.recorded.size > DEDUPE_WINDOW) {
      const oldest = this.recorded.values().next().value
      if (oldest !== undefined) this.recorded.delete(oldest)
    }
  }
}

/** Steps of the task and, nested under delegation steps, of its subagents. */
function* flatten(steps: AgentStep[]): Generator<AgentStep> {
  for (const step of steps) {
    yield step
    if (step.type === 'delegation') yield* flatten(step.steps)
  }
}

function taskSeconds(record: ExecutionRecord): number | undefined {
  if (record.timings.totalMs !== undefined) return record.timings.totalMs / 1000
  const start = Date.parse(record.startedAt ?? record.createdAt)
  const end = Date.parse(record.finishedAt ?? '')
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? (end - start) / 1000 : undefined
}

/** Execution steps carry the adapter as the first item of `isolation` ("local, bwrap, no network"). */
function adapterOf(isolation: string | undefined): string {
  return isolation?.split(',')[0]?.trim() || 'unknown'
}
