import { z } from 'zod'
import { ConfigError } from '../config/errors'
import { loadYamlFile } from '../config/yaml-file'

/** The host function a program calls to hand a sub-task to another agent. */
export const DELEGATE_SKILL = 'delegate'

const agentSchema = z.object({
  description: z.string().min(1),
  instructions: z.string().default(''),
  /** Skill names, or `"*"` for every loaded skill. */
  skills: z.union([z.literal('*'), z.array(z.string().min(1))]).default([]),
  /** Agents this one may delegate to; non-empty gives its programs `delegate(agent, task)`. */
  delegates: z.array(z.string().min(1)).default([]),
  /** Name of an LLM client in the registry; the registry default when absent. */
  llm: z.string().min(1).optional(),
  maxSteps: z.number().int().min(1).max(50).default(6),
  /** Name of a sandbox adapter; the configured default when absent. */
  sandbox: z.string().min(1).optional(),
  /** `inline`: one call writes plan and code. `separate`: a plan call, then a code call (weaker models). */
  planning: z.enum(['inline', 'separate']).default('inline'),
  /**
   * The protocol's default: a program that succeeds without final_answer answers with what it printed.
   * `false` shows that output to the model instead and lets it go on exploring until final_answer.
   */
  outputIsAnswer: z.boolean().default(true),
  /** Per-run sandbox time limit; the adapter's own limit when absent. */
  timeoutMs: z.number().int().min(100).optional(),
})

const agentNamePattern = /^[a-z][a-z0-9_-]*$/

export const agentsConfigSchema = z
  .object({
    defaultAgent: z.string().default('master'),
    agents: z.record(z.string().regex(agentNamePattern, 'agent names are lower-case words'), agentSchema),
  })
  .superRefine((cfg, ctx) => {
    if (!cfg.agents[cfg.defaultAgent]) {
      ctx.addIssue({ code: 'custom', path: ['defaultAgent'], message: `no agent named "${cfg.defaultAgent}"` })
    }
    for (const [name, agent] of Object.entries(cfg.agents)) {
      for (const target of agent.delegates) {
        if (!cfg.agents[target]) {
          ctx.addIssue({ code: 'custom', path: ['agents', name, 'delegates'], message: `no agent named "${target}"` })
        }
      }
    }
  })

export type AgentDefinition = z.infer<typeof agentSchema>
export type AgentsConfig = z.infer<typeof agentsConfigSchema>
export interface ResolvedAgent extends Omit<AgentDefinition, 'skills'> {
  name: string
  /** Concrete skill names (wildcard expanded), without `delegate`. */
  skills: string[]
}

export function loadAgentsConfig(path: string): AgentsConfig {
  return loadYamlFile(path, agentsConfigSchema)
}

/**
 * Expands `"*"` and checks every skill name against the loaded catalog, so a typo in agents.yaml
 * stops start-up with one clear line instead of failing inside a task.
 */
export function resolveAgents(config: AgentsConfig, skillNames: string[], source = 'agents.yaml'): ResolvedAgent[] {
  const known = new Set(skillNames)
  const problems: string[] = []
  const resolved = Object.entries(config.agents).map(([name, def]) => {
    const skills = def.skills === '*' ? [...skillNames] : def.skills
    for (const skill of skills) {
      if (skill === DELEGATE_SKILL)
        problems.push(`agents.${name}.skills: "delegate" is given by "delegates", not listed`)
      else if (!known.has(skill)) problems.push(`agents.${name}.skills: unknown skill "${skill}"`)
    }
    return { ...def, name, skills }
  })
  if (problems.length) {
    const available = skillNames.length ? skillNames.join(', ') : 'none loaded'
    throw new ConfigError(`${source}: ${problems.join('; ')} (available skills: ${available})`)
  }
  return resolved
}
