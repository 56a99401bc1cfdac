import { Monty, MontySnapshot } from '@pydantic/monty'
import { AppError } from '../../../config/errors'
import { CappedText } from '../../capped-text'
import type { MontySandboxOptions } from '../../config'
import { RunQueue } from '../../run-queue'
import { SessionTable } from '../../session-table'
import { SkillCallLedger, type SkillOutcome } from '../../skill-ledger'
import type {
  IsolationReport,
  OpenSessionOptions,
  RunOptions,
  RunResult,
  SandboxAdapter,
  SandboxSession,
  SkillCallRecord,
  SkillCallRequest,
} from '../../types'
import {
  assignedNames,
  candidateNames,
  type Definitions,
  keptValues,
  prelude,
  sessionProgram,
  topLevelDefinitions,
} from './carry-over'
import { type DriveOutcome, drive, limitsFor, type Progress } from './driver'

/** A program paused at a skill call, as plain JSON: store it anywhere, resume it in any process. */
export interface PausedProgram {
  /** Base64 of Monty's snapshot of the interpreter at the call. */
  snapshot: string
  call: SkillCallRequest
  skills: string[]
  stdout: string
  /** Calls made so far, each recorded when the program was resumed with its outcome. */
  skillCalls: SkillCallRecord[]
  pausedAt: string
}

export type DurableStep = { status: 'paused'; paused: PausedProgram } | { status: 'done'; result: RunResult }

/** `@pydantic/monty` in-process: a Python subset with resource limits and serialisable snapshots. */
export class MontySandbox implements SandboxAdapter {
  readonly type = 'monty'
  private readonly sessions: SessionTable<MontySession>

  constructor(readonly options: MontySandboxOptions) {
    this.sessions = new SessionTable(options.maxSessions, options.idleTimeoutMs)
  }

  isolation(): IsolationReport {
    const o = this.options
    return {
      adapter: 'monty',
      network: false,
      details: ['in-process interpreter', 'no filesystem', 'no network', `memory ${o.maxMemoryBytes} B`],
    }
  }

  async openSession({ id, workspaceDir }: OpenSessionOptions): Promise<SandboxSession> {
    const live = this.sessions.get(id)
    if (live) return live
    await this.sessions.reserve()
    const session = new MontySession(this, id, workspaceDir, () => this.sessions.forget(session))
    this.sessions.add(session)
    return session
  }

  /** Runs a standalone program until its first skill call (durable execution: no session state). */
  startDurable(code: string, skills: string[], timeoutMs = this.options.timeout): Promise<DurableStep> {
    const output = new CappedText(this.options.maxOutputBytes)
    const monty = new ProgramRunner(this, output)
    return monty.step(skills, () => new Monty(code).start(monty.startOptions(timeoutMs)), [])
  }

  /** Resumes a paused program with the outcome of its pending skill call. */
  resumeDurable(paused: PausedProgram, outcome: SkillOutcome): Promise<DurableStep> {
    const output = new CappedText(this.options.maxOutputBytes)
    output.append(paused.stdout)
    const runner = new ProgramRunner(this, output)
    const snapshot = MontySnapshot.load(Buffer.from(paused.snapshot, 'base64'), {
      printCallback: runner.print,
    })
    const resume = () =>
      outcome.ok
        ? snapshot.resume({ returnValue: outcome.value })
        : snapshot.resume({ exception: { type: 'RuntimeError', message: outcome.error } })
    return runner.step(paused.skills, resume, [...paused.skillCalls, recordOf(paused, outcome)])
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    const ok = new Monty('1 + 1').run() === 2
    return { ok, detail: ok ? 'monty runs' : 'monty returned a wrong result' }
  }

  async shutdown() {
    await this.sessions.closeAll()
  }
}

class ProgramRunner {
  constructor(
    private readonly sandbox: MontySandbox,
    readonly output: CappedText,
  ) {}

  // Monty rejects a print callback that returns anything but undefined.
  readonly print = (_stream: string, text: string): void => {
    this.output.append(text)
  }

  startOptions(timeoutMs: number) {
    return { limits: limitsFor({ ...this.sandbox.options, timeoutMs }), printCallback: this.print }
  }

  async step(skills: string[], start: () => Progress, skillCalls: SkillCallRecord[]): Promise<DurableStep> {
    const started = Date.now()
    // Only maps Python names to skills here: the caller makes the call, perhaps in another process.
    const ledger = new SkillCallLedger(skills, () => Promise.reject(new Error('durable runs pause at skill calls')))
    const outcome = await drive(start, { names: new Map(), offset: 0, pauseAtSkill: true, ledger })
    if (outcome.status === 'paused') {
      return {
        status: 'paused',
        paused: {
          snapshot: outcome.snapshot.dump().toString('base64'),
          call: { skill: outcome.skill, args: outcome.args, kwargs: outcome.kwargs },
          skills,
          stdout: this.output.toString(),
          skillCalls,
          pausedAt: new Date().toISOString(),
        },
      }
    }
    return { status: 'done', result: toRunResult(outcome, this.output, skillCalls, started, this.sandbox.isolation()) }
  }
}

function recordOf(paused: PausedProgram, outcome: SkillOutcome): SkillCallRecord {
  const json = outcome.ok ? (JSON.stringify(outcome.value) ?? 'null') : ''
  return {
    id: `call-${paused.skillCalls.length + 1}`,
    ...paused.call,
    ok: outcome.ok,
    resultBytes: Buffer.byteLength(json),
    ...(outcome.ok ? { resultPreview: json.slice(0, 200) } : { error: outcome.error }),
    startedAt: paused.pausedAt,
    durationMs: Date.now() - Date.parse(paused.pausedAt),
  }
}

function toRunResult(
  outcome: Exclude<DriveOutcome, { status: 'paused' }>,
  output: CappedText,
  skillCalls: RunResult['skillCalls'],
  started: number,
  isolation: IsolationReport,
): RunResult {
  return {
    ok: outcome.status !== 'failed',
    hasFinalAnswer: outcome.status === 'final',
    ...(outcome.status === 'final' ? { finalAnswer: outcome.value } : {}),
    stdout: output.toString(),
    stderr: '',
    ...(outcome.status === 'failed' ? { error: outcome.error } : {}),
    skillCalls,
    durationMs: Date.now() - started,
    isolation,
  }
}

/** Variables (as data) and top-level imports/functions carry over between runs; see carry-over.ts. */
class MontySession implements SandboxSession {
  busy = false
  lastUsedAt = Date.now()
  private readonly values = new Map<string, unknown>()
  private readonly definitions: Definitions = { imports: [], functions: new Map() }
  private readonly runs = new RunQueue()
  private closed = false

  constructor(
    private readonly sandbox: MontySandbox,
    readonly id: string,
    readonly workspaceDir: string,
    private readonly onClose: () => void,
  ) {}

  run(code: string, options: RunOptions): Promise<RunResult> {
    return this.runs.push(() => this.runNow(code, options))
  }

  private async runNow(code: string, options: RunOptions): Promise<RunResult> {
    if (this.closed) throw new AppError('sandbox_session_closed', `sandbox session ${this.id} is closed`)
    this.busy = true
    const started = Date.now()
    const ledger = new SkillCallLedger(options.skills, options.invokeSkill, options.signal)
    const output = new CappedText(this.sandbox.options.maxOutputBytes)
    const runner = new ProgramRunner(this.sandbox, output)
    const defs = topLevelDefinitions(code)
    const names = candidateNames(code, defs)
    const assigned = assignedNames(code, names)
    // Only bound or carried names can hold data worth keeping; probing the rest costs a NameError each.
    const kept = names.filter((n) => assigned.includes(n) || this.values.has(n))
    const { program, offset } = sessionProgram(prelude(this.definitions), code, kept, assigned)
    // A name the program rebinds is local to Monty's module, so carried values must be inputs, not lookups.
    const inputs = Object.fromEntries(names.filter((n) => this.values.has(n)).map((n) => [n, this.values.get(n)]))
    let saved = new Map<string, unknown>()
    try {
      const timeoutMs = options.timeoutMs ?? this.sandbox.options.timeout
      const declared = Object.keys(inputs)
      const start = () =>
        declared.length
          ? new Monty(program, { inputs: declared }).start({ ...runner.startOptions(timeoutMs), inputs })
          : new Monty(program).start(runner.startOptions(timeoutMs))
      const outcome = await drive(start, {
        names: this.values,
        offset,
        ledger,
        kept: (values, types) => {
          saved = keptValues(kept, values, types)
        },
      })
      if (outcome.status === 'paused') throw new Error('unreachable: session runs make their skill calls')
      if (outcome.status !== 'failed') this.remember(defs, saved)
      return toRunResult(outcome, output, ledger.records, started, this.sandbox.isolation())
    } finally {
      this.busy = false
      this.lastUsedAt = Date.now()
    }
  }

  private remember(defs: Definitions, kept: Map<string, unknown>) {
    for (const [name, value] of kept) this.values.set(name, value)
    for (const statement of defs.imports) {
      if (!this.definitions.imports.includes(statement)) this.definitions.imports.push(statement)
    }
    for (const [name, source] of defs.functions) {
      this.definitions.functions.delete(name)
      this.definitions.functions.set(name, source)
    }
  }

  async close() {
    this.closed = true
    this.onClose()
  }
}
