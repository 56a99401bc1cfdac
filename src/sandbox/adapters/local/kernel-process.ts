import { type ChildProcess, spawn } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { AppError } from '../../../config/errors'
import { CappedText } from '../../capped-text'
import { pythonName, type SkillCallLedger } from '../../skill-ledger'
import type { RunResult } from '../../types'
import { type IsolationPlan, scrubbedEnv } from './isolation'

/** Messages the kernel sends on fd 4 (see kernel.py). */
type KernelMessage =
  | { type: 'ready'; pid: number }
  | { type: 'opened'; uid: number; rlimits: string[] }
  | { type: 'skill_call'; id: number; skill: string; args: unknown[]; kwargs: Record<string, unknown> }
  | ({ type: 'done' } & Omit<KernelRunOutcome, 'lost'>)
  | { type: 'kernel_error'; message: string }

export interface KernelSpawnOptions {
  plan: IsolationPlan
  python: string
  kernelFile: string
  writableDirs: string[]
  outputCapBytes: number
}

export interface KernelOpenOptions {
  cwd: string
  uid?: number
  limits: { memoryBytes: number; fileBytes: number; processes: number }
}

export interface KernelRunOptions {
  code: string
  skills: string[]
  ledger: SkillCallLedger
  timeoutMs: number
  signal?: AbortSignal
}

export type KernelRunOutcome = Pick<
  RunResult,
  'ok' | 'hasFinalAnswer' | 'finalAnswer' | 'stdout' | 'stderr' | 'error'
> & {
  /** The interpreter died or was killed: the session's variables are gone. */
  lost: boolean
}

/** One CPython process running kernel.py; its process group is killed as a whole. */
export class PythonKernel {
  private readonly child: ChildProcess
  private readonly toKernel: Writable
  private waiter?: (message: KernelMessage) => void
  private processOutput: CappedText
  private exitListeners: ((reason: string) => void)[] = []
  readonly ready: Promise<void>
  exited = false
  exitReason = ''

  private constructor(private readonly options: KernelSpawnOptions) {
    const { file, args } = options.plan.command(options.python, options.kernelFile, options.writableDirs)
    // detached: the kernel leads its own process group, so a timeout can kill everything it started.
    this.child = spawn(file, args, {
      detached: true,
      env: scrubbedEnv(),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    })
    this.processOutput = new CappedText(options.outputCapBytes)
    this.toKernel = this.child.stdio[3] as Writable
    this.toKernel.on('error', () => {})
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding('utf8')
      stream?.on('data', (chunk: string) => this.processOutput.append(chunk))
    }
    this.readLines(this.child.stdio[4] as Readable)
    this.child.on('exit', (code, signal) => this.onExit(signal ? `killed by ${signal}` : `exited with code ${code}`))
    this.child.on('error', (err) => this.onExit(`could not start: ${err.message}`))
    this.ready = this.next('ready').then(() => undefined)
  }

  static start(options: KernelSpawnOptions): PythonKernel {
    return new PythonKernel(options)
  }

  get pid() {
    return this.child.pid
  }

  async open(options: KernelOpenOptions): Promise<{ uid: number; rlimits: string[] }> {
    await this.ready
    this.send({ type: 'open', ...options })
    const opened = await this.next('opened')
    return opened as { uid: number; rlimits: string[] }
  }

  async run(options: KernelRunOptions): Promise<KernelRunOutcome> {
    if (this.exited) return this.lostOutcome(`the interpreter ${this.exitReason}`)
    this.processOutput = new CappedText(this.options.outputCapBytes)
    const skills = options.skills.map((name) => ({ name, python: pythonName(name) }))
    return new Promise<KernelRunOutcome>((resolve) => {
      let settled = false
      const finish = (outcome: KernelRunOutcome) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        this.waiter = undefined
        this.exitListeners = []
        resolve(outcome)
      }
      const stop = (type: string, message: string) => {
        options.ledger.cancel(message)
        this.kill()
        finish(this.lostOutcome(message, type))
      }
      const timer = setTimeout(
        () => stop('TimeoutError', `program exceeded the ${options.timeoutMs} ms time limit and was killed`),
        options.timeoutMs,
      )
      const onAbort = () => stop('CancelledError', 'run was cancelled')
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.exitListeners.push((reason) => finish(this.lostOutcome(`the interpreter ${reason}`)))
      this.waiter = (message) => {
        if (message.type === 'skill_call') void this.answerSkillCall(message, options.ledger)
        else if (message.type === 'done') finish({ ...message, ...this.withProcessOutput(message), lost: false })
        else if (message.type === 'kernel_error') stop('SandboxCrash', `the kernel failed: ${message.message}`)
      }
      if (options.signal?.aborted) return onAbort()
      const cpuSeconds = Math.ceil(options.timeoutMs / 1000) + 1
      this.send({ type: 'run', code: options.code, skills, outputCap: this.options.outputCapBytes, cpuSeconds })
    })
  }

  kill() {
    if (this.exited || !this.child.pid) return
    try {
      process.kill(-this.child.pid, 'SIGKILL')
    } catch {
      this.child.kill('SIGKILL')
    }
  }

  private async answerSkillCall(call: Extract<KernelMessage, { type: 'skill_call' }>, ledger: SkillCallLedger) {
    const outcome = await ledger.call({ skill: call.skill, args: call.args ?? [], kwargs: call.kwargs ?? {} })
    if (outcome.ok && outcome.json !== undefined && !this.exited) {
      this.toKernel.write(`{"type":"skill_result","id":${call.id},"ok":true,"value":${outcome.json}}\n`)
    } else {
      this.send({ type: 'skill_result', id: call.id, ok: outcome.ok, ...(outcome.ok ? {} : { error: outcome.error }) })
    }
  }

  /** Output written straight to the process's fds (os.system, C extensions) goes after the program's own. */
  private withProcessOutput(done: { stdout: string; stderr: string }) {
    const extra = this.processOutput.toString()
    return { stdout: done.stdout, stderr: extra ? `${done.stderr}${extra}` : done.stderr }
  }

  private lostOutcome(reason: string, type = 'SandboxCrash'): KernelRunOutcome {
    const detail = this.processOutput.toString()
    return {
      ok: false,
      hasFinalAnswer: false,
      stdout: '',
      stderr: detail,
      lost: true,
      error: {
        type,
        message: `${reason}; the session's variables were lost and the next run starts a fresh interpreter`,
        traceback: '',
      },
    }
  }

  private send(message: object) {
    if (!this.exited) this.toKernel.write(`${JSON.stringify(message)}\n`)
  }

  private next(type: KernelMessage['type']): Promise<KernelMessage> {
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(this.startError())
      this.exitListeners.push(() => reject(this.startError()))
      this.waiter = (message) => {
        if (message.type === 'kernel_error') reject(new AppError('sandbox_kernel_error', message.message))
        else if (message.type === type) {
          this.waiter = undefined
          this.exitListeners = []
          resolve(message)
        }
      }
    })
  }

  private startError() {
    return new AppError(
      'sandbox_unavailable',
      `Python kernel ${this.exitReason}: ${this.processOutput.toString().slice(-2000) || 'no output'}`,
    )
  }

  /** Splits fd 4 into JSON lines (lighter than node:readline on this hot path). */
  private readLines(stream: Readable) {
    let pending = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      pending += chunk
      let newline = pending.indexOf('\n')
      while (newline >= 0) {
        this.onLine(pending.slice(0, newline))
        pending = pending.slice(newline + 1)
        newline = pending.indexOf('\n')
      }
    })
  }

  private onLine(line: string) {
    let message: KernelMessage
    try {
      message = JSON.parse(line)
    } catch {
      return
    }
    this.waiter?.(message)
  }

  private onExit(reason: string) {
    if (this.exited) return
    this.exited = true
    this.exitReason = reason
    for (const listener of this.exitListeners) listener(reason)
    this.exitListeners = []
  }
}
