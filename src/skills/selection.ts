export interface SkillSelection {
  /** Skills the agent is configured with (agents.yaml); undefined = every loaded skill. */
  agent?: string[]
  /** `availableSkills` of the task; undefined = the agent's skills. */
  task?: string[]
}

export interface ResolvedSkills {
  names: string[]
  /** Entries that matched no loaded skill. */
  unknown: string[]
  /** Task entries naming loaded skills that the agent may not use. */
  notAllowed: string[]
}

interface Named {
  name: string
  pythonName: string
}

const globToRegExp = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`)

function matching(skills: Named[], patterns: string[]): { names: Set<string>; unmatched: string[] } {
  const names = new Set<string>()
  const unmatched: string[] = []
  for (const pattern of patterns) {
    const re = globToRegExp(pattern)
    const hits = skills.filter((s) => re.test(s.name) || re.test(s.pythonName))
    if (!hits.length) unmatched.push(pattern)
    for (const hit of hits) names.add(hit.name)
  }
  return { names, unmatched }
}

/**
 * Per-agent and per-task filtering: the task may narrow the agent's skills, never widen them.
 * Names may be skill names (`web-search`), Python names (`web_search`) or globs (`github__*`).
 */
export function resolveSkillNames(skills: Named[], selection: SkillSelection): ResolvedSkills {
  const agent = selection.agent
    ? matching(skills, selection.agent)
    : { names: new Set(skills.map((s) => s.name)), unmatched: [] }
  const agentSkills = skills.filter((s) => agent.names.has(s.name))
  if (!selection.task) return { names: agentSkills.map((s) => s.name), unknown: agent.unmatched, notAllowed: [] }
  const task = matching(agentSkills, selection.task)
  const outside = matching(skills, task.unmatched)
  return {
    names: agentSkills.map((s) => s.name).filter((n) => task.names.has(n)),
    unknown: [...agent.unmatched, ...outside.unmatched],
    notAllowed: task.unmatched.filter((p) => !outside.unmatched.includes(p)),
  }
}
