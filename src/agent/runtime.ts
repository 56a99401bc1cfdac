import { randomUUID } from 'node:crypto'
import { join, resolve } from 'node:path'
import { AppError, ConfigError, errorMessage } from '../config/errors'
import type { SandboxSession } from '../sandbox/types'
import type { SkillCatalog } from '../skills/types'
import { runAgentLoop } from './agent-loop'
import { type AgentsConfig, type ResolvedAgent, resolveAgents } from './agents-config'
import { nowIso, RunTotals, StepLog } from './record'
import { type AgentLimits, type AgentOutcome, DEFAULT_LIMITS, type LlmSource, type SandboxSource } from './scope'
import { SessionOrder } from './session-order'
import { renderHistory, type SessionStore, sessionTurnOf } from './sessions'
import type { AgentEvent, ExecutionRecord, ExecutionStatus } from './types'

export type { AgentLimits } from './scope'
export type { SessionStore, SessionTurn } from './sessions'
export { InMemorySessionStore, sessionTurnOf } from './sessions'

export interface RunTaskOptions {
  task: string
  sessionId?: string
  executionId?: string
  /** Agent name from agents.yaml; the configured default when absent. */
  agent?: string
  /** Narrows the agent's skills for this task (each must be one of the agent's skills). */
  availableSkills?: string[]
  /** Sandbox adapter name; the agent's (or the default) when absent. */
  sandbox?: string
  signal?: AbortSignal
  onEvent?: (event: AgentEvent) => void
  /** When the task was queued; the record's `timings.queuedMs` counts from here. */
  createdAt?: string
  /** Default true; the Motia layer passes false and appends the turn itself. */
  appendToSession?: boolean
}

export interface AgentRuntimeDeps {
  llm: LlmSource
  skills: SkillCatalog
  sandboxes: SandboxSource
  agents: AgentsConfig
  sessions: SessionStore
  /** Each session works in `<workspaceRoot>/<sessionId>`. */
  workspaceRoot: string
  limits?: Partial<AgentLimits>
}

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/

/** Runs tasks: picks the agent, loads the session history, runs the loop, builds the execution record. */
export class AgentRuntime {
  private readonly agents: Map<string, ResolvedAgent>
  private readonly defaultAgent: string
  private readonly limits: AgentLimits
  private readonly sessionOrder = new SessionOrder()

  constructor(private readonly deps: AgentRuntimeDeps) {
    const resolved = resolveAgents(
      deps.agents,
      deps.skills.list().map((s) => s.name),
    )
    this.agents = new Map(resolved.map((a) => [a.name, a]))
    this.defaultAgent = deps.agents.defaultAgent
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits }
    // A provider without a key is not fatal (the server starts and /ready says why); an unknown name is a typo.
    for (const agent of resolved) {
      if (agent.llm && deps.llm.has && !deps.llm.has(agent.llm)) {
        throw new ConfigError(`agents.yaml: agents.${agent.name}.llm: no LLM provider named "${agent.llm}"`)
      }
    }
  }

  agentNames(): string[] {
    return [...this.agents.keys()]
  }

  describeAgents(): { name: string; description: string; skills: string[]; delegates: string[]; default: boolean }[] {
    return [...this.agents.values()].map((a) => ({
      name: a.name,
      description: a.description,
      skills: a.skills,
      delegates: a.delegates,
      default: a.name === this.defaultAgent,
    }))
  }

  /** Never throws for task-level failures: they end as status failed/cancelled with `error`. */
  async runTask(options: RunTaskOptions): Promise<ExecutionRecord> {
    const executionId = options.executionId ?? randomUUID()
    const sessionId = options.sessionId ?? randomUUID()
    return this.sessionOrder.run(sessionId, options.signal, () => this.runInOrder(options, executionId, sessionId))
  }

  private async runInOrder(options: RunTaskOptions, executionId: string, sessionId: string): Promise<ExecutionRecord> {
    const startedAt = nowIso()
    const totals = new RunTotals(this.limits.maxTotalSteps)
    const emit = (event: AgentEvent) => {
      try {
        options.onEvent?.(event)
      } catch {
        // A broken listener must not break the run.
      }
    }
    const agentName = options.agent ?? this.defaultAgent
    const log = new StepLog(agentName, (step) => emit({ type: 'step', executionId, step }))
    emit({ type: 'status', executionId, status: 'running' })

    let outcome: AgentOutcome
    try {
      outcome = await this.execute(options, { executionId, sessionId, agentName, log, totals, emit })
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'internal_error'
      outcome = { status: 'failed', answer: null, error: { code, message: errorMessage(err) } }
    }

    const finishedAt = nowIso()
    const record: ExecutionRecord = {
      executionId,
      sessionId,
      agent: agentName,
      status: outcome.status,
      task: options.task,
      result: outcome.answer,
      error: outcome.error,
      steps: log.steps,
      skillCalls: totals.skillCalls,
      usage: totals.usage,
      timings: {
        queuedMs: options.createdAt ? Math.max(0, Date.parse(startedAt) - Date.parse(options.createdAt)) : undefined,
        totalMs: Date.parse(finishedAt) - Date.parse(startedAt),
        llmMs: totals.llmMs,
        sandboxMs: totals.sandboxMs,
      },
      createdAt: options.createdAt ?? startedAt,
      startedAt,
      finishedAt,
    }
    if (options.appendToSession !== false && SESSION_ID.test(sessionId)) {
      await this.deps.sessions.append(sessionId, sessionTurnOf(record)).catch(() => undefined)
    }
    emit({ type: 'status', executionId, status: record.status })
    return record
  }

  private async execute(
    options: RunTaskOptions,
    run: {
      executionId: string
      sessionId: string
      agentName: string
      log: StepLog
      totals: RunTotals
      emit: (e: AgentEvent) => void
    },
  ): Promise<AgentOutcome> {
    const agent = this.agents.get(run.agentName)
    if (!agent) {
      throw new AppError(
        'unknown_agent',
        `Unknown agent "${run.agentName}"; available: ${this.agentNames().join(', ')}`,
      )
    }
    if (!SESSION_ID.test(run.sessionId)) {
      throw new AppError('invalid_session_id', 'sessionId must be 1-128 letters, digits, "_", ".", ":" or "-"')
    }
    const rootAgent = { ...agent, skills: this.skillsFor(agent, options.availableSkills) }
    const history = renderHistory(await this.deps.sessions.load(run.sessionId), this.limits.historyTokens)
    const workspaceDir = join(resolve(this.deps.workspaceRoot), run.sessionId)
    const signal = options.signal ?? new AbortController().signal
    if (signal.aborted) {
      return {
        status: 'cancelled',
        answer: null,
        error: { code: 'cancelled', message: 'The execution was cancelled' },
      }
    }
    // One sandbox session per agent session: notebook variables persist across steps and turns.
    const sandbox: SandboxSession = await this.deps.sandboxes
      .get(options.sandbox ?? agent.sandbox)
      .openSession({ id: run.sessionId, workspaceDir })
    const scope = {
      executionId: run.executionId,
      sessionId: run.sessionId,
      workspaceDir,
      signal,
      totals: run.totals,
      limits: this.limits,
      llm: this.deps.llm,
      skills: this.deps.skills,
      sandboxes: this.deps.sandboxes,
      agents: this.agents,
      emit: run.emit,
      streaming: options.onEvent !== undefined,
    }
    return runAgentLoop(scope, { agent: rootAgent, task: options.task, history, sandbox, log: run.log, depth: 0 })
  }

  /** A task may narrow its agent's skills, never widen them; skill or Python names are accepted. */
  private skillsFor(agent: ResolvedAgent, requested: string[] | undefined): string[] {
    if (!requested) return agent.skills
    const known = this.deps.skills.list()
    const names = requested.map((r) => known.find((s) => s.name === r || s.pythonName === r)?.name ?? r)
    const unknown = names.filter((name) => !known.some((s) => s.name === name))
    if (unknown.length) throw new AppError('unknown_skill', `Unknown skill(s): ${unknown.join(', ')}`)
    const notAllowed = names.filter((name) => !agent.skills.includes(name))
    if (notAllowed.length) {
      throw new AppError(
        'skill_not_allowed',
        `Agent "${agent.name}" may not use: ${notAllowed.join(', ')} (its skills: ${agent.skills.join(', ') || 'none'})`,
      )
    }
    return [...new Set(names)]
  }
}

export type { ExecutionRecord, ExecutionStatus }
