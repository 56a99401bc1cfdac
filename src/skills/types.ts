import type { LlmClient } from '../llm/types'
import type { SkillInvoker } from '../sandbox/types'

/** What a skill handler gets besides its validated arguments. */
export interface SkillContext {
  sessionId: string
  executionId: string
  /** The session's workspace directory; file skills are confined to it. */
  workspaceDir: string
  signal: AbortSignal
  /** LLM for skills that need one (summarize); absent when no provider is configured. */
  llm?: LlmClient
}

/** A loaded skill as the catalog shows it. */
export interface SkillInfo {
  name: string
  /** Python function name: `-` mapped to `_`. */
  pythonName: string
  description: string
  /** JSON Schema of the arguments (an object schema; property order = positional order). */
  parameters: Record<string, unknown>
  returns?: string
  timeoutMs: number
  /** `ts`, `py` or `mcp`. */
  kind: string
  /** Python signature, e.g. `web_search(query: str, max_results: int = 5) -> list[dict]`. */
  signature: string
  /** Markdown usage guide shown to the LLM. */
  guide: string
}

/** The part of the skill registry the agent layer and the HTTP layer depend on. */
export interface SkillCatalog {
  list(names?: string[]): SkillInfo[]
  get(name: string): SkillInfo | undefined
  /** Python stubs with docstrings for the given skills, for the prompt. */
  renderCatalog(names: string[]): string
  /** An invoker for the sandbox that validates arguments, runs handlers and enforces the allow-list. */
  createInvoker(context: SkillContext, allowed: string[]): SkillInvoker
}

/** What a handler receives: the caller's context plus what the registry resolved for this skill. */
export interface SkillHandlerContext extends SkillContext {
  /** Host-side skill name, e.g. `web-search`. */
  skill: string
  /** Only the env vars the skill declares in SKILL.md (`requires.env`, `requires.optionalEnv`) that are set. */
  env: Readonly<Record<string, string>>
  /** The skill's section of `config/skills.yaml` (`settings.<name>`), validated by the handler's `settings` schema. */
  settings: Readonly<Record<string, unknown>>
  /** Project root; relative paths in settings resolve against it. */
  rootDir: string
}

/** Default export of a `handler.ts`: validated arguments in, a JSON-serialisable value out. */
export type SkillHandler = (args: Record<string, unknown>, ctx: SkillHandlerContext) => unknown | Promise<unknown>

/** A skill that could not be loaded: the file at fault and what is wrong with it. */
export interface SkillLoadError {
  /** Skill name when known, otherwise the folder or MCP server name. */
  skill: string
  file: string
  problem: string
}
