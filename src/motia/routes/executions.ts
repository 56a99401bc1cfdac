import type { StoredExecution } from '../execution-store'
import { isTerminal } from '../execution-store'
import { problem, validationProblem } from '../problem'
import { listExecutionsQuerySchema } from '../schemas'
import { notFound, ownedBy, param, type RouteHandler } from './context'

/** The API shape: the stored record minus what only the runner needs. */
export function publicRecord(record: StoredExecution) {
  const { owner: _owner, ...rest } = record
  return rest
}

/** GET /agent/executions/:id */
export const getExecution: RouteHandler = async (req, { service, principal }) => {
  const id = param(req, 'id')
  const record = await service.executions.get(id)
  if (!record || !ownedBy(record, principal)) return notFound('execution', id)
  return { status: 200, body: publicRecord(record) }
}

/** GET /agent/executions?sessionId=&status=&limit=&cursor= — newest first. */
export const listExecutions: RouteHandler = async (req, { service, principal }) => {
  const parsed = listExecutionsQuerySchema.safeParse(req.queryParams)
  if (!parsed.success) return validationProblem(parsed.error, 'query')
  const page = await service.index.list({ ...parsed.data, owner: principal.keyId })
  return { status: 200, body: { items: page.items.map(publicRecord), nextCursor: page.nextCursor } }
}

/** POST /agent/executions/:id/cancel */
export const cancelExecution: RouteHandler = async (req, { service, principal }) => {
  const id = param(req, 'id')
  const record = await service.executions.get(id)
  if (!record || !ownedBy(record, principal)) return notFound('execution', id)
  if (isTerminal(record.status)) {
    return problem(409, 'conflict', `Execution ${id} already finished with status "${record.status}"`)
  }
  const after = await service.cancel(record)
  return {
    status: 202,
    body: { executionId: id, status: after.status === 'cancelled' ? 'cancelled' : 'cancelling' },
  }
}
