import { AppError, errorMessage } from '../config/errors'
import type { LlmClient } from '../llm/types'
import type { SkillCallRequest, SkillInvoker } from '../sandbox/types'
import type { LoadedSkill } from './loaded-skill'
import type { SkillContext } from './types'

export interface InvokerDeps {
  /** Looks a skill up by skill name or Python name at call time, so a reload takes effect at once. */
  lookup(name: string): LoadedSkill | undefined
  rootDir: string
  llm?: LlmClient
}

/**
 * The host side of the bridge: checks the allow-list, binds and validates arguments, runs the
 * handler under the skill's time limit, and hands back a JSON value. Every error message starts
 * with `<python_name>()` so the program's traceback says which call failed.
 */
export function createSkillInvoker(deps: InvokerDeps, context: SkillContext, allowed: string[]): SkillInvoker {
  const allowedNames = new Set(allowed.map((name) => deps.lookup(name)?.info.name ?? name))
  return async (call: SkillCallRequest, signal: AbortSignal) => {
    const skill = deps.lookup(call.skill)
    if (!skill) throw new AppError('skill_unknown', `${call.skill}(): no such skill`)
    const { name, pythonName, timeoutMs } = skill.info
    if (!allowedNames.has(name)) {
      const names = [...allowedNames].map((n) => deps.lookup(n)?.info.pythonName ?? n).join(', ') || 'none'
      throw new AppError('skill_not_allowed', `${pythonName}() is not available to this task (available: ${names})`)
    }
    const args = skill.bind(call.args, call.kwargs)
    const timeout = AbortSignal.timeout(timeoutMs)
    const combined = AbortSignal.any([signal, context.signal, timeout])
    const handlerContext = {
      ...context,
      signal: combined,
      llm: context.llm ?? deps.llm,
      skill: name,
      env: skill.env,
      settings: skill.settings,
      rootDir: deps.rootDir,
    }
    try {
      const value = await untilAborted(skill.run(args, handlerContext), combined)
      return toJsonValue(value, pythonName)
    } catch (err) {
      if (timeout.aborted) throw new AppError('skill_timeout', `${pythonName}(): timed out after ${timeoutMs} ms`)
      if (combined.aborted) throw new AppError('skill_cancelled', `${pythonName}(): cancelled`)
      const message = errorMessage(err)
      const code = err instanceof AppError ? err.code : 'skill_failed'
      throw new AppError(code, message.startsWith(`${pythonName}(`) ? message : `${pythonName}(): ${message}`)
    }
  }
}

/** Rejects as soon as the signal aborts, even when the handler ignores it. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function toJsonValue(value: unknown, pythonName: string): unknown {
  if (value === undefined) return null
  try {
    return JSON.parse(JSON.stringify(value))
  } catch (err) {
    throw new AppError('skill_failed', `${pythonName}(): returned a value that is not JSON: ${errorMessage(err)}`)
  }
}
