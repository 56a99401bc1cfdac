import { isAbsolute, resolve } from 'node:path'
import type { EnvConfig } from '../config/env'
import type { LlmClient } from '../llm/types'
import { loadMcpConfig, loadSkillsConfig } from './config'
import { SkillRegistry } from './registry'

export { loadMcpConfig, loadSkillsConfig, type McpConfig, type SkillsConfig } from './config'
export { toPythonName } from './loaded-skill'
export { SkillRegistry, type SkillRegistryOptions } from './registry'
export { type ResolvedSkills, resolveSkillNames, type SkillSelection } from './selection'
export type * from './types'

export interface StartSkillsOptions {
  rootDir: string
  /** The raw environment: skills may declare variables EnvConfig does not know (e.g. a GITHUB_TOKEN). */
  processEnv: Record<string, string | undefined>
  llm?: LlmClient
  /** Reload skill folders on change (dev). */
  watch?: boolean
}

/** Start-up wiring: reads `SKILLS_CONFIG_FILE` and `MCP_CONFIG_FILE` once and loads the registry. */
export async function startSkillRegistry(env: EnvConfig, options: StartSkillsOptions): Promise<SkillRegistry> {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(options.rootDir, p))
  const registry = await SkillRegistry.load({
    rootDir: options.rootDir,
    skillsConfig: loadSkillsConfig(at(env.SKILLS_CONFIG_FILE)),
    mcpConfig: loadMcpConfig(at(env.MCP_CONFIG_FILE)),
    mcpConfigFile: env.MCP_CONFIG_FILE,
    env: options.processEnv,
    llm: options.llm,
  })
  if (options.watch) await registry.watch()
  return registry
}
