import { notFound, param, type RouteHandler } from './context'

/** GET /agent/sessions/:id — the turns later tasks of the session see, plus its executions. */
export const getSession: RouteHandler = async (req, { service, principal }) => {
  const id = param(req, 'id')
  const owner = await service.sessionOwner(id)
  if (owner === null || owner !== principal.keyId) return notFound('session', id)
  const session = await service.sessions.get(id)
  const executionIds = await service.index.sessionExecutionIds(id)
  return {
    status: 200,
    body: {
      sessionId: id,
      turns: session?.turns ?? [],
      executionIds,
      createdAt: session?.createdAt ?? null,
      updatedAt: session?.updatedAt ?? null,
    },
  }
}

/** DELETE /agent/sessions/:id — forgets the history and its executions; running tasks are cancelled. */
export const deleteSession: RouteHandler = async (req, { service, principal }) => {
  const id = param(req, 'id')
  const owner = await service.sessionOwner(id)
  if (owner === null || owner !== principal.keyId) return notFound('session', id)
  const deleted = await service.deleteSession(id)
  return { status: 200, body: { sessionId: id, deleted: true, executionsDeleted: deleted } }
}
