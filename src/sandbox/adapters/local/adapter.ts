import { chmodSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AppError, errorMessage } from '../../../config/errors'
import type { LocalSandboxOptions } from '../../config'
import { RunQueue } from '../../run-queue'
import { SessionTable } from '../../session-table'
import { SkillCallLedger } from '../../skill-ledger'
import type {
  IsolationReport,
  OpenSessionOptions,
  RunOptions,
  RunResult,
  SandboxAdapter,
  SandboxSession,
} from '../../types'
import { type IsolationPlan, planIsolation } from './isolation'
import { KernelPool } from './kernel-pool'
import { PythonKernel } from './kernel-process'
import { resolvePythonPath } from './python-path'
import { isInside, prepareWorkspace, UidRange } from './workspace'

const KERNEL_FILE = fileURLToPath(new URL('./kernel.py', import.meta.url))
const EVICTED_NOTE = '[sandbox] this session was paused to make room for others; variables from earlier runs are gone'

interface HostSetup {
  python: string
  plan: IsolationPlan
  pool: KernelPool
  workspaceRoot: string
}

/** Real CPython in an isolated child process per session, with a warm pool of ready interpreters. */
export class LocalPythonSandbox implements SandboxAdapter {
  readonly type = 'local'
  private host?: HostSetup
  private readonly sessions: SessionTable<LocalPythonSession>
  private readonly uids: UidRange

  constructor(readonly options: LocalSandboxOptions) {
    this.sessions = new SessionTable(options.maxSessions, options.idleTimeoutMs)
    this.uids = new UidRange(options.uidBase)
  }

  /** Resolves the interpreter and probes isolation once, then starts the warm pool. */
  setup(): HostSetup {
    if (this.host) return this.host
    const python = resolvePythonPath(this.options.pythonPath)
    const plan = planIsolation(this.options, python, KERNEL_FILE)
    const workspaceRoot = resolve(this.options.workspace)
    mkdirSync(workspaceRoot, { recursive: true })
    // Session uids must traverse the root to reach their own 0700 workspace, but not list it.
    if (plan.dropsUid) chmodSync(workspaceRoot, 0o711)
    const pool = new KernelPool(this.options.poolSize, this.spawnOptions(python, plan, [workspaceRoot]))
    this.host = { python, plan, pool, workspaceRoot }
    pool.fill()
    return this.host
  }

  isolation(extra: string[] = []): IsolationReport {
    const { plan } = this.setup()
    return { adapter: 'local', network: plan.networkAccess, details: [...plan.details, ...extra] }
  }

  async openSession({ id, workspaceDir }: OpenSessionOptions): Promise<SandboxSession> {
    const live = this.sessions.get(id)
    if (live) return live
    const { dir, uid } = await this.admit(workspaceDir)
    const session = new LocalPythonSession(this, id, dir, uid)
    this.sessions.add(session)
    return session
  }

  /** Takes a session slot and a uid, and prepares the workspace for that uid. */
  private async admit(workspaceDir: string): Promise<{ dir: string; uid: number | undefined }> {
    const { plan } = this.setup()
    await this.sessions.reserve()
    const uid = plan.dropsUid ? this.uids.allocate() : undefined
    try {
      return { dir: await prepareWorkspace(workspaceDir, uid), uid }
    } catch (err) {
      this.uids.release(uid)
      throw new AppError('sandbox_workspace', `cannot prepare workspace ${workspaceDir}: ${errorMessage(err)}`)
    }
  }

  /** An evicted session runs again: back into the table with a slot, a uid and a fresh kernel. */
  async readmit(session: LocalPythonSession): Promise<number | undefined> {
    const live = this.sessions.get(session.id)
    if (live && live !== session && !live.busy) await this.sessions.evictNow(live)
    const { uid } = await this.admit(session.workspaceDir)
    if (!this.sessions.get(session.id)) this.sessions.add(session)
    return uid
  }

  /** A kernel opened for the session: from the warm pool when its workspace is under the root. */
  async kernelFor(session: LocalPythonSession): Promise<PythonKernel> {
    const { pool, workspaceRoot } = this.setup()
    const kernel = pool.take(isInside(session.workspaceDir, workspaceRoot) ? undefined : [session.workspaceDir])
    const o = this.options
    await kernel.open({
      cwd: session.workspaceDir,
      uid: session.uid,
      limits: { memoryBytes: o.maxMemoryBytes, fileBytes: o.maxFileBytes, processes: o.maxProcesses },
    })
    return kernel
  }

  released(session: LocalPythonSession) {
    this.sessions.forget(session)
    this.uids.release(session.uid)
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    try {
      const { python, plan, workspaceRoot, pool } = this.setup()
      // /ready may poll often: a waiting pooled interpreter is proof enough, without a new process.
      if (pool.hasReady()) return { ok: true, detail: `${python} (${plan.kind}, warm pool ready)` }
      const kernel = PythonKernel.start(this.spawnOptions(python, plan, [workspaceRoot]))
      await kernel.ready
      kernel.kill()
      return { ok: true, detail: `${python} (${plan.kind})` }
    } catch (err) {
      return { ok: false, detail: errorMessage(err) }
    }
  }

  async shutdown() {
    await this.sessions.closeAll()
    this.host?.pool.close()
  }

  private spawnOptions(python: string, plan: IsolationPlan, writableDirs: string[]) {
    return { plan, python, kernelFile: KERNEL_FILE, writableDirs, outputCapBytes: this.options.maxOutputBytes }
  }
}

/** A notebook-like session: one kernel whose namespace lives across runs until it is killed. */
export class LocalPythonSession implements SandboxSession {
  busy = false
  lastUsedAt = Date.now()
  private kernel?: Promise<PythonKernel>
  private readonly runs = new RunQueue()
  private closed = false
  /** Evicted to make room: the next run readmits it with a fresh interpreter. */
  private evicted = false

  constructor(
    private readonly sandbox: LocalPythonSandbox,
    readonly id: string,
    readonly workspaceDir: string,
    private currentUid: number | undefined,
  ) {}

  get uid(): number | undefined {
    return this.currentUid
  }

  /** Runs of one session are serialised, like cells of a notebook. */
  run(code: string, options: RunOptions): Promise<RunResult> {
    return this.runs.push(() => this.runNow(code, options))
  }

  private async runNow(code: string, options: RunOptions): Promise<RunResult> {
    if (this.closed) throw new AppError('sandbox_session_closed', `sandbox session ${this.id} is closed`)
    this.busy = true
    const started = performance.now()
    const wasEvicted = this.evicted
    if (wasEvicted) {
      this.currentUid = await this.sandbox.readmit(this).catch((err) => {
        this.busy = false
        throw err
      })
      this.evicted = false
    }
    const ledger = new SkillCallLedger(options.skills, options.invokeSkill, options.signal)
    try {
      this.kernel ??= this.sandbox.kernelFor(this)
      const kernel = await this.kernel.catch((err) => {
        this.kernel = undefined
        throw err
      })
      const outcome = await kernel.run({
        code,
        skills: options.skills,
        ledger,
        timeoutMs: options.timeoutMs ?? this.sandbox.options.timeout,
        signal: options.signal,
      })
      if (outcome.lost) {
        kernel.kill()
        this.kernel = undefined
      }
      const uid = this.uid === undefined ? [] : [`uid ${this.uid}`]
      return {
        ok: outcome.ok,
        hasFinalAnswer: outcome.hasFinalAnswer,
        ...(outcome.hasFinalAnswer ? { finalAnswer: outcome.finalAnswer ?? null } : {}),
        stdout: outcome.stdout,
        stderr: wasEvicted ? `${EVICTED_NOTE}\n${outcome.stderr}` : outcome.stderr,
        ...(outcome.error ? { error: outcome.error } : {}),
        skillCalls: ledger.records,
        durationMs: Math.round(performance.now() - started),
        isolation: this.sandbox.isolation(uid),
      }
    } finally {
      this.busy = false
      this.lastUsedAt = Date.now()
    }
  }

  async evict() {
    if (this.closed || this.evicted) return
    this.evicted = true
    await this.stopKernel()
  }

  async close() {
    if (this.closed) return
    this.closed = true
    await this.stopKernel()
  }

  private async stopKernel() {
    const kernel = this.kernel
    this.kernel = undefined
    this.sandbox.released(this)
    if (kernel) (await kernel.catch(() => undefined))?.kill()
  }
}
