import type { ApiRequest } from '@motiadev/core'
import type { Principal } from '../http/auth'
import { type HttpResponse, problem, problemFromError } from '../problem'
import type { AgentService } from '../service'

export type { Principal } from '../http/auth'

/** Auth, per-key limits and rate limits, applied to every agent route before its handler. */
export interface RequestGuard {
  authenticate(headers: ApiRequest['headers']): Principal | HttpResponse
  authorize(principal: Principal, wants: { agent?: string; skills?: string[] }): HttpResponse | null
  limit(principal: Principal, ip: string): Promise<HttpResponse | null>
}

export interface RouteDeps {
  service: () => Promise<AgentService>
  guard: RequestGuard
}

export interface RouteContext {
  service: AgentService
  principal: Principal
  guard: RequestGuard
}

export type RouteHandler = (req: ApiRequest, ctx: RouteContext) => Promise<HttpResponse>

const isResponse = (value: Principal | HttpResponse): value is HttpResponse => 'status' in value

/** The guards middleware replaces x-forwarded-for with the client address Express trusts. */
export function clientIp(headers: ApiRequest['headers']): string {
  const forwarded = headers['x-forwarded-for']
  const first = Array.isArray(forwarded) ? forwarded[0] : forwarded
  return first?.split(',')[0]?.trim() || 'unknown'
}

/** Wraps a handler: waits for the service, authenticates, rate-limits, and maps thrown errors to problems. */
export function guarded(deps: RouteDeps, handler: RouteHandler) {
  return async (req: ApiRequest): Promise<HttpResponse> => {
    try {
      const principal = deps.guard.authenticate(req.headers)
      if (isResponse(principal)) return principal
      const limited = await deps.guard.limit(principal, clientIp(req.headers))
      if (limited) return limited
      const service = await deps.service()
      return await handler(req, { service, principal, guard: deps.guard })
    } catch (err) {
      return problemFromError(err)
    }
  }
}

/** Records of another key look exactly like missing ones. */
export function notFound(what: string, id: string): HttpResponse {
  return problem(404, 'not_found', `No ${what} with id "${id}"`)
}

export const ownedBy = (record: { owner?: string } | null, principal: Principal): boolean =>
  record !== null && (record.owner ?? 'anonymous') === principal.keyId

export function param(req: ApiRequest, name: string): string {
  return String(req.pathParams[name] ?? '')
}
