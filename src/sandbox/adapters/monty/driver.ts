import {
  type Monty,
  MontyComplete,
  MontyError,
  MontyNameLookup,
  MontyRuntimeError,
  type MontySnapshot,
  type ResourceLimits,
} from '@pydantic/monty'
import { errorMessage } from '../../../config/errors'
import type { SkillCallLedger } from '../../skill-ledger'
import type { SandboxError } from '../../types'
import { FINAL_FUNCTION, formatTraceback, KEEP_FUNCTION, SAVING_FUNCTION, UNBOUND } from './carry-over'
import { toJson } from './values'

export type Progress = MontySnapshot | MontyNameLookup | MontyComplete

export interface DriveContext {
  /** Values handed to the program when it reads a name it did not bind (session variables). */
  names: Map<string, unknown>
  /** Lines of session prelude before the program, for traceback line numbers. */
  offset: number
  /** Stops driving at the first skill call instead of making it (durable execution). */
  pauseAtSkill?: boolean
  ledger?: SkillCallLedger
  /** Receives the saver's values (as Monty values: tuples and sets stay themselves) and type names. */
  kept?: (values: unknown[], types: unknown[]) => void
}

export type DriveOutcome =
  | { status: 'completed' }
  | { status: 'final'; value: unknown }
  | { status: 'failed'; error: SandboxError }
  | { status: 'paused'; snapshot: MontySnapshot; skill: string; args: unknown[]; kwargs: Record<string, unknown> }

export function toSandboxError(err: unknown, offset: number): SandboxError {
  if (err instanceof MontyRuntimeError) {
    const { typeName, message } = err.exception
    const frames = err.traceback()
    const header = `${typeName}: ${message}`
    return { type: typeName, message, traceback: frames.length ? formatTraceback(frames, offset, header) : header }
  }
  if (err instanceof MontyError) {
    const { typeName, message } = err.exception
    return { type: typeName, message, traceback: err.display('type-msg') }
  }
  return { type: 'SandboxError', message: errorMessage(err), traceback: '' }
}

/** Runs `step` and turns a thrown Monty exception into a failed outcome. */
function attempt(step: () => Progress, offset: number): Progress | SandboxError {
  try {
    return step()
  } catch (err) {
    return toSandboxError(err, offset)
  }
}

/**
 * Drives a started program: answers name lookups from the session, records `final_answer`, and
 * makes skill calls through the ledger (or pauses at them for durable execution).
 */
export async function drive(start: () => Progress, ctx: DriveContext): Promise<DriveOutcome> {
  let progress = attempt(start, ctx.offset)
  let saving = false
  while (true) {
    if ('traceback' in progress) return { status: 'failed', error: progress }
    const current: Progress = progress
    if (current instanceof MontyComplete) return { status: 'completed' }
    if (current instanceof MontyNameLookup) {
      const name = current.variableName
      const known = ctx.names.has(name)
      progress = attempt(
        () => (known || saving ? current.resume({ value: known ? ctx.names.get(name) : UNBOUND }) : current.resume()),
        ctx.offset,
      )
      continue
    }
    const call = current as MontySnapshot
    const fn = call.functionName
    if (fn === 'final_answer' || fn === FINAL_FUNCTION) {
      return { status: 'final', value: toJson(call.args[0] ?? call.kwargs.value ?? null) }
    }
    if (fn === SAVING_FUNCTION) {
      saving = true
      progress = attempt(() => call.resume({ returnValue: null }), ctx.offset)
      continue
    }
    if (fn === KEEP_FUNCTION) {
      saving = false
      ctx.kept?.(call.args[0] as unknown[], call.args[1] as unknown[])
      progress = attempt(() => call.resume({ returnValue: null }), ctx.offset)
      continue
    }
    const skill = ctx.ledger?.skillFor(fn)
    if (!skill) {
      const exception = { type: 'NameError', message: `name '${fn}' is not defined` }
      progress = attempt(() => call.resume({ exception }), ctx.offset)
      continue
    }
    const args = toJson(call.args) as unknown[]
    const kwargs = toJson(call.kwargs) as Record<string, unknown>
    if (ctx.pauseAtSkill) return { status: 'paused', snapshot: call, skill, args, kwargs }
    const outcome = await ctx.ledger!.call({ skill, args, kwargs })
    progress = attempt(
      () =>
        outcome.ok
          ? call.resume({ returnValue: outcome.value })
          : call.resume({ exception: { type: 'RuntimeError', message: outcome.error } }),
      ctx.offset,
    )
  }
}

export function limitsFor(options: {
  timeoutMs: number
  maxMemoryBytes: number
  maxAllocations?: number
  maxRecursionDepth: number
}): ResourceLimits {
  return {
    maxDurationSecs: options.timeoutMs / 1000,
    maxMemory: options.maxMemoryBytes,
    maxRecursionDepth: options.maxRecursionDepth,
    ...(options.maxAllocations ? { maxAllocations: options.maxAllocations } : {}),
  }
}

export type { Monty }
