import { randomUUID } from 'node:crypto'
import { queuedExecution } from '../execution-store'
import { ANONYMOUS, effectiveSkills } from '../http/auth'
import { problem, validationProblem } from '../problem'
import { executeRequestSchema } from '../schemas'
import { notFound, type RouteHandler } from './context'

/** POST /agent/execute: validate, store a queued record, emit agent.task.requested, answer 202 at once. */
export const executeTask: RouteHandler = async (req, { service, principal, guard }) => {
  const parsed = executeRequestSchema.safeParse(req.body ?? {})
  if (!parsed.success) return validationProblem(parsed.error)
  const body = parsed.data
  const { runtime, skills, sandboxes } = service.core
  // The agent that will really run (the default one when none is named) is what the key must be allowed.
  const agent = body.agent ?? runtime.describeAgents().find((a) => a.default)?.name ?? 'master'
  const denied = guard.authorize(principal, { agent, skills: body.availableSkills })
  if (denied) return denied
  // A key limited to some skills runs every task with at most those, named in the request or not.
  const availableSkills = effectiveSkills(principal, body.availableSkills)

  if (body.agent && !runtime.agentNames().includes(body.agent)) {
    return problem(404, 'unknown_agent', `Unknown agent "${body.agent}"; available: ${runtime.agentNames().join(', ')}`)
  }
  const unknownSkills = (availableSkills ?? []).filter((name) => !skills.get(name))
  if (unknownSkills.length) {
    return problem(400, 'unknown_skill', `Unknown skill(s): ${unknownSkills.join(', ')}; see GET /skills`, [
      ...unknownSkills.map((name) => ({ path: 'availableSkills', message: `unknown skill "${name}"` })),
    ])
  }
  if (body.sandbox && !sandboxes.names().includes(body.sandbox)) {
    return problem(
      400,
      'unknown_sandbox',
      `Unknown sandbox "${body.sandbox}"; configured: ${sandboxes.names().join(', ')}`,
    )
  }

  const executionId = randomUUID()
  const sessionId = body.sessionId ?? randomUUID()
  // A session belongs to the key that opened it; to any other key it does not exist.
  if ((await service.claimSession(sessionId, principal.keyId)) !== principal.keyId)
    return notFound('session', sessionId)
  // Auth off (development) means one shared anonymous caller: no per-key budget then.
  if (principal.keyId !== ANONYMOUS.keyId) {
    const over = await service.budget.tryAcquire(principal.keyId, executionId)
    if (over) return over
  }
  if (body.idempotencyKey) {
    const existing = await service.claimIdempotencyKey(principal.keyId, body.idempotencyKey, executionId)
    if (existing) {
      const record = await service.executions.get(existing)
      if (record)
        return { status: 202, body: { executionId: existing, sessionId: record.sessionId, status: record.status } }
    }
  }
  const record = queuedExecution({
    executionId,
    sessionId,
    agent,
    task: body.task,
    availableSkills,
    sandbox: body.sandbox,
    owner: principal.keyId,
  })
  await service.enqueue(record)
  return { status: 202, body: { executionId, sessionId: record.sessionId, status: 'queued' } }
}
