import type { MotiaPluginContext } from '@motiadev/core'
import { buildOpenApiDocument } from '../openapi'
import { listSkills } from './catalog'
import { guarded, type RouteDeps } from './context'
import { executeTask } from './execute'
import { cancelExecution, getExecution, listExecutions } from './executions'
import { health, metrics, ready } from './health'
import { deleteSession, getSession } from './sessions'

/** Every REST route of the agent API, in one table. */
const openApi = buildOpenApiDocument()

export function registerRoutes(motia: MotiaPluginContext, deps: RouteDeps, instanceId: () => string | undefined): void {
  const api = motia.registerApi as (
    config: { method: 'GET' | 'POST' | 'DELETE'; path: string },
    handler: unknown,
  ) => void
  api({ method: 'GET', path: '/health' }, health(instanceId))
  api({ method: 'GET', path: '/ready' }, () => ready(deps))
  api({ method: 'GET', path: '/metrics' }, () => metrics(deps))
  api({ method: 'GET', path: '/openapi.json' }, async () => ({ status: 200, body: openApi }))
  api({ method: 'POST', path: '/agent/execute' }, guarded(deps, executeTask))
  api({ method: 'GET', path: '/agent/executions' }, guarded(deps, listExecutions))
  api({ method: 'GET', path: '/agent/executions/:id' }, guarded(deps, getExecution))
  api({ method: 'POST', path: '/agent/executions/:id/cancel' }, guarded(deps, cancelExecution))
  api({ method: 'GET', path: '/agent/sessions/:id' }, guarded(deps, getSession))
  api({ method: 'DELETE', path: '/agent/sessions/:id' }, guarded(deps, deleteSession))
  api({ method: 'GET', path: '/skills' }, guarded(deps, listSkills))
}
