import { isAbsolute, resolve } from 'node:path'
import { loadAgentsConfig } from '../agent/agents-config'
import { type AgentLimits, AgentRuntime, InMemorySessionStore, type SessionStore } from '../agent/runtime'
import type { EnvConfig } from '../config/env'
import { createLlmRegistry, type LlmRegistry } from '../llm'
import type { LlmClient } from '../llm/types'
import { loadSandboxConfig, SandboxRegistry } from '../sandbox'
import { type SkillRegistry, startSkillRegistry } from '../skills'

export interface AgentRuntimeOverrides {
  /** Where sessions live; in memory when absent (the Motia layer passes its Redis store). */
  sessions?: SessionStore
  /** Project root: config files, skills and the workspace resolve against it. Default: the working directory. */
  rootDir?: string
  /** The raw environment, for skills that declare variables EnvConfig does not know. Default: process.env. */
  processEnv?: Record<string, string | undefined>
  /** Reload skill folders when they change (dev server). */
  watchSkills?: boolean
  limits?: Partial<AgentLimits>
}

export interface AgentSystem {
  runtime: AgentRuntime
  llm: LlmRegistry
  skills: SkillRegistry
  sandboxes: SandboxRegistry
  close(): Promise<void>
}

/**
 * Wires the agent system from validated config: LLM registry, sandbox adapters, skill registry,
 * agents.yaml. Used by the CLI and the Motia plugin. A bad config file throws a ConfigError naming it.
 */
export async function createAgentRuntime(env: EnvConfig, overrides: AgentRuntimeOverrides = {}): Promise<AgentSystem> {
  const rootDir = overrides.rootDir ?? process.cwd()
  const at = (p: string) => (isAbsolute(p) ? p : resolve(rootDir, p))
  const processEnv = overrides.processEnv ?? process.env
  const llm = createLlmRegistry(env, processEnv)
  const agents = loadAgentsConfig(at(env.AGENTS_CONFIG_FILE))
  const sandboxes = new SandboxRegistry(loadSandboxConfig({ ...env, SANDBOX_CONFIG_FILE: at(env.SANDBOX_CONFIG_FILE) }))
  const skills = await startSkillRegistry(env, {
    rootDir,
    processEnv,
    llm: defaultClient(llm),
    watch: overrides.watchSkills,
  })
  try {
    const runtime = new AgentRuntime({
      llm,
      skills,
      sandboxes,
      agents,
      sessions: overrides.sessions ?? new InMemorySessionStore(),
      workspaceRoot: at(env.WORKSPACE_DIR),
      limits: overrides.limits,
    })
    return {
      runtime,
      llm,
      skills,
      sandboxes,
      async close() {
        await Promise.allSettled([skills.close(), sandboxes.shutdown()])
      },
    }
  } catch (err) {
    await Promise.allSettled([skills.close(), sandboxes.shutdown()])
    throw err
  }
}

/** The skills' LLM (summarize); absent when no provider is usable, which only those skills notice. */
function defaultClient(llm: LlmRegistry): LlmClient | undefined {
  try {
    return llm.get()
  } catch {
    return undefined
  }
}
