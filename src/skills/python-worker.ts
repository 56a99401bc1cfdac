import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { AppError } from '../config/errors'

const WORKER_SCRIPT = fileURLToPath(new URL('./python/skill_worker.py', import.meta.url))
const STDERR_TAIL = 2000

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

export interface PythonWorkerOptions {
  pythonPath: string
  handlerFile: string
  /** Python function name of the skill, for error messages. */
  label: string
  /** The whole environment of the worker: only what the skill declared, plus a plain PATH. */
  env: Record<string, string>
}

/**
 * A long-lived trusted Python process running one skill's handler.py on the host (outside the
 * sandbox). Started on first call; a crash or a timed-out call kills it and the next call restarts it.
 */
export class PythonSkillWorker {
  private child?: ChildProcessWithoutNullStreams
  private pending = new Map<number, Pending>()
  private nextId = 1
  private stderr = ''

  constructor(private readonly options: PythonWorkerOptions) {}

  async call(args: Record<string, unknown>, context: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    signal.throwIfAborted()
    const child = this.child ?? this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        // The handler cannot be interrupted from outside; a fresh worker serves the next call.
        this.kill()
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          signal.removeEventListener('abort', onAbort)
          fn(v)
        }
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) })
      child.stdin.write(`${JSON.stringify({ id, args, context })}\n`)
    })
  }

  close(): void {
    this.kill()
  }

  private start(): ChildProcessWithoutNullStreams {
    const { pythonPath, handlerFile, env } = this.options
    const child = spawn(pythonPath, ['-u', WORKER_SCRIPT, handlerFile], {
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child = child
    this.stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_TAIL)
    })
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line))
    child.on('error', (err) => this.failAll(child, `could not start ${pythonPath}: ${err.message}`))
    child.on('exit', (code, sig) => {
      const tail = this.stderr.trim() ? `:\n${this.stderr.trim()}` : ''
      this.failAll(child, `Python worker exited (${sig ?? `code ${code}`})${tail}`)
    })
    // EPIPE after a crash is reported through 'exit'.
    child.stdin.on('error', () => {})
    return child
  }

  private onLine(line: string): void {
    let reply: { id: number; ok: boolean; value?: unknown; error?: { type: string; message: string } }
    try {
      reply = JSON.parse(line)
    } catch {
      return
    }
    const pending = this.pending.get(reply.id)
    if (!pending) return
    this.pending.delete(reply.id)
    if (reply.ok) pending.resolve(reply.value ?? null)
    else pending.reject(new AppError('skill_failed', `${reply.error?.type}: ${reply.error?.message}`))
  }

  private failAll(child: ChildProcessWithoutNullStreams, message: string): void {
    if (this.child !== child) return
    this.child = undefined
    const error = new AppError('skill_worker_crashed', `${this.options.label}(): ${message}`)
    for (const p of this.pending.values()) p.reject(error)
    this.pending.clear()
  }

  private kill(): void {
    const child = this.child
    if (!child) return
    this.failAll(child, 'Python worker stopped')
    child.kill('SIGKILL')
  }
}

/** Compiles handler.py files in one Python process; returns the problem per file that does not compile. */
export async function checkPythonHandlers(pythonPath: string, files: string[]): Promise<Map<string, string>> {
  if (!files.length) return new Map()
  const script = [
    'import json, sys',
    'problems = {}',
    'for f in sys.argv[1:]:',
    '    try:',
    '        compile(open(f, encoding="utf-8").read(), f, "exec")',
    '    except SyntaxError as e:',
    '        problems[f] = f"syntax error at line {e.lineno}: {e.msg}"',
    'print(json.dumps(problems))',
  ].join('\n')
  try {
    const { stdout } = await promisify(execFile)(pythonPath, ['-c', script, ...files])
    return new Map(Object.entries(JSON.parse(stdout) as Record<string, string>))
  } catch (err) {
    const problem = `cannot run ${pythonPath}: ${(err as Error).message.split('\n')[0]}`
    return new Map(files.map((f) => [f, problem]))
  }
}
