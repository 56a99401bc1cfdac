/** Sandbox contract: every adapter (local, monty, remote ones) implements SandboxAdapter. */

/** One skill call as the program made it; positional and keyword arguments as sent. */
export interface SkillCallRequest {
  /** Host-side skill name, e.g. `web-search` (the program called `web_search`). */
  skill: string
  args: unknown[]
  kwargs: Record<string, unknown>
}

/**
 * Executes a skill call on the host. Resolves with a JSON-serialisable value or rejects with an
 * Error whose message the program sees as a Python exception.
 */
export type SkillInvoker = (call: SkillCallRequest, signal: AbortSignal) => Promise<unknown>

export interface SkillCallRecord {
  id: string
  skill: string
  args: unknown[]
  kwargs: Record<string, unknown>
  ok: boolean
  /** JSON size of the value handed back to the program (0 on error). */
  resultBytes: number
  /** First bytes of the result, for logs and the execution record; the full value stays in the sandbox. */
  resultPreview?: string
  error?: string
  startedAt: string
  durationMs: number
}

export interface SandboxError {
  type: string
  message: string
  traceback: string
}

/** What the adapter achieved for this run, e.g. `{ level: 'netns+rlimits', network: false }`. */
export interface IsolationReport {
  adapter: string
  network: boolean
  details: string[]
}

export interface RunResult {
  ok: boolean
  /** True when the program called final_answer(); `finalAnswer` may legitimately be null then. */
  hasFinalAnswer: boolean
  finalAnswer?: unknown
  stdout: string
  stderr: string
  error?: SandboxError
  skillCalls: SkillCallRecord[]
  durationMs: number
  isolation: IsolationReport
}

export interface RunOptions {
  /** Host skill names the program may call; exposed as Python functions with `-` mapped to `_`. */
  skills: string[]
  invokeSkill: SkillInvoker
  timeoutMs?: number
  signal?: AbortSignal
}

export interface OpenSessionOptions {
  /** Stable id (usually the agent session id); reopening the same id returns the live session. */
  id: string
  /** Working directory of the program; created when missing. */
  workspaceDir: string
}

export interface SandboxSession {
  readonly id: string
  readonly workspaceDir: string
  /** Runs code; variables persist between runs of the same session, like a notebook. */
  run(code: string, options: RunOptions): Promise<RunResult>
  close(): Promise<void>
}

export interface SandboxAdapter {
  readonly type: string
  openSession(options: OpenSessionOptions): Promise<SandboxSession>
  /** Quick self-check for /ready: can this adapter run code right now? */
  check(): Promise<{ ok: boolean; detail: string }>
  shutdown(): Promise<void>
}
