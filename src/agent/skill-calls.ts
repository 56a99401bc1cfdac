import { randomUUID } from 'node:crypto'
import { errorMessage } from '../config/errors'
import type { SkillCallRecord, SkillInvoker } from '../sandbox/types'
import { stopwatch } from './record'

const PREVIEW_CHARS = 300
const ARG_CHARS = 2_000

/** Wraps an invoker so each call is reported the moment it completes (live progress), with result size only. */
export function recordingInvoker(inner: SkillInvoker, onCall: (record: SkillCallRecord) => void): SkillInvoker {
  return async (call, signal) => {
    const watch = stopwatch()
    const base = {
      id: randomUUID(),
      skill: call.skill,
      args: call.args.map(shorten),
      kwargs: shortenAll(call.kwargs),
      startedAt: watch.startedAt,
    }
    try {
      const value = await inner(call, signal)
      const json = toJson(value)
      onCall({
        ...base,
        ok: true,
        resultBytes: Buffer.byteLength(json),
        resultPreview: json.slice(0, PREVIEW_CHARS),
        durationMs: watch.elapsed(),
      })
      return value
    } catch (err) {
      onCall({ ...base, ok: false, resultBytes: 0, error: errorMessage(err), durationMs: watch.elapsed() })
      throw err
    }
  }
}

function toJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch {
    return String(value)
  }
}

/** Long text arguments (a document passed to summarize) would bloat the record; the skill got them whole. */
const shorten = (value: unknown): unknown =>
  typeof value === 'string' && value.length > ARG_CHARS
    ? `${value.slice(0, ARG_CHARS)}… [${value.length} chars]`
    : value

const shortenAll = (kwargs: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [k, shorten(v)]))
