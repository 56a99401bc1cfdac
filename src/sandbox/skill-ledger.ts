import { errorMessage } from '../config/errors'
import type { SkillCallRecord, SkillCallRequest, SkillInvoker } from './types'

const PREVIEW_CHARS = 200

/** A skill named `web-search` is the Python function `web_search`. */
export const pythonName = (skill: string) => skill.replace(/-/g, '_')

/** `json` is the value as JSON text, so a transport can forward it without serialising twice. */
export type SkillOutcome = { ok: true; value: unknown; json?: string } | { ok: false; error: string }

/**
 * The host side of the skill bridge for one run: forwards each call to the injected invoker and
 * records it (skill, arguments, result size, duration, error). Calls may overlap.
 */
export class SkillCallLedger {
  readonly records: SkillCallRecord[] = []
  private readonly byPythonName: Map<string, string>
  private readonly allowed: Set<string>
  private readonly abort = new AbortController()

  constructor(
    skills: string[],
    private readonly invoke: SkillInvoker,
    signal?: AbortSignal,
  ) {
    this.byPythonName = new Map(skills.map((skill) => [pythonName(skill), skill]))
    this.allowed = new Set(skills)
    signal?.addEventListener('abort', () => this.abort.abort(signal.reason), { once: true })
  }

  /** Host skill name for a Python function name, or undefined when the run may not call it. */
  skillFor(functionName: string): string | undefined {
    return this.byPythonName.get(functionName) ?? (this.allows(functionName) ? functionName : undefined)
  }

  allows(skill: string): boolean {
    return this.allowed.has(skill)
  }

  /** Stops skill calls still in flight (the run timed out or was cancelled). */
  cancel(reason: string) {
    this.abort.abort(new Error(reason))
  }

  async call(request: SkillCallRequest): Promise<SkillOutcome> {
    const record: SkillCallRecord = {
      id: `call-${this.records.length + 1}`,
      skill: request.skill,
      args: request.args,
      kwargs: request.kwargs,
      ok: false,
      resultBytes: 0,
      startedAt: new Date().toISOString(),
      durationMs: 0,
    }
    this.records.push(record)
    const started = performance.now()
    try {
      if (!this.allows(request.skill)) throw new Error(`skill "${request.skill}" is not available to this program`)
      const value = (await this.invoke(request, this.abort.signal)) ?? null
      const json = JSON.stringify(value)
      if (json === undefined) throw new Error(`skill "${request.skill}" returned a value that is not JSON`)
      record.ok = true
      record.resultBytes = Buffer.byteLength(json)
      record.resultPreview = json.slice(0, PREVIEW_CHARS)
      return { ok: true, value, json }
    } catch (err) {
      record.error = errorMessage(err)
      return { ok: false, error: record.error }
    } finally {
      record.durationMs = Math.round((performance.now() - started) * 1000) / 1000
    }
  }
}
