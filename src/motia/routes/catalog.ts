import type { RouteHandler } from './context'

/** GET /skills — what programs may call, as the LLM sees it, plus skills that failed to load. */
export const listSkills: RouteHandler = async (_req, { service, principal }) => {
  const { skills, runtime } = service.core
  const visible = skills.list().filter((s) => !principal.skills || principal.skills.includes(s.name))
  return {
    status: 200,
    body: {
      skills: visible.map(({ name, pythonName, description, parameters, returns, kind, signature, timeoutMs }) => ({
        name,
        pythonName,
        description,
        signature,
        parameters,
        returns,
        kind,
        timeoutMs,
      })),
      loadErrors: skills.loadErrors ?? [],
      agents: runtime.describeAgents().filter((a) => !principal.agents || principal.agents.includes(a.name)),
    },
  }
}
