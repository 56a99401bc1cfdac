import {
  type ArgumentBinder,
  createArgumentBinder,
  type JsonSchema,
  orderedParameters,
  pythonSignature,
} from './parameters'
import type { SkillHandlerContext, SkillInfo } from './types'

/** A skill ready to run: what the catalog shows plus how to bind arguments and run the handler. */
export interface LoadedSkill {
  info: SkillInfo
  /** Folder the skill came from (absent for MCP tools). */
  dir?: string
  bind: ArgumentBinder
  /** The declared env vars that are set; the handler sees only these. */
  env: Record<string, string>
  settings: Record<string, unknown>
  run(args: Record<string, unknown>, ctx: SkillHandlerContext): Promise<unknown>
  close(): void | Promise<void>
}

/** Python function name for a skill name: `-` (and anything else not allowed) becomes `_`. */
export const toPythonName = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1')

export interface SkillInfoInput {
  name: string
  description: string
  parameters: JsonSchema
  returns: string
  timeoutMs: number
  kind: string
  guide: string
}

/** Builds the catalog entry and the argument binder; throws when the parameter schema is unusable. */
export function describeSkill(input: SkillInfoInput): { info: SkillInfo; bind: ArgumentBinder } {
  const pythonName = toPythonName(input.name)
  const { $schema: _ignored, ...parameters } = input.parameters
  const bind = createArgumentBinder(pythonName, parameters)
  const signature = pythonSignature(pythonName, orderedParameters(parameters), input.returns)
  return { info: { ...input, pythonName, parameters, signature }, bind }
}
