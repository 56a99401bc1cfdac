import { errorMessage } from '../../config/errors'
import type { HttpResponse } from '../problem'
import type { RouteDeps } from './context'

/** GET /health — the process is alive and serving HTTP (liveness only: no dependency is checked). */
export function health(instanceId: () => string | undefined) {
  return async (): Promise<HttpResponse> => ({
    status: 200,
    body: { status: 'ok', instance: instanceId() ?? null, uptimeSeconds: Math.round(process.uptime()) },
  })
}

type Check = { ok: boolean; detail: string }

/** GET /ready — Redis reachable, the default sandbox can run code, at least one LLM provider configured. */
export async function ready(deps: RouteDeps): Promise<HttpResponse> {
  const checks: Record<string, Check> = {}
  try {
    const service = await Promise.race([
      deps.service(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('agent service still starting')), 2_000)),
    ])
    checks.intake = service.draining ? { ok: false, detail: 'shutting down' } : { ok: true, detail: 'accepting tasks' }
    checks.redis = await withTimeout(service.redis.ping().then(() => ({ ok: true, detail: 'PONG' })))
    checks.sandbox = await withTimeout(service.core.sandboxes.get().check())
    const llm = service.core.llm.describe()
    checks.llm = {
      ok: llm.ready,
      detail: llm.ready ? `default provider "${llm.defaultName}"` : (llm.reason ?? 'no usable LLM provider configured'),
    }
  } catch (err) {
    checks.service = { ok: false, detail: errorMessage(err) }
  }
  const ok = Object.values(checks).every((c) => c.ok)
  return { status: ok ? 200 : 503, body: { status: ok ? 'ready' : 'unready', checks } }
}

async function withTimeout(check: Promise<Check>, ms = 2_000): Promise<Check> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Check>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${ms} ms` }), ms)
  })
  try {
    return await Promise.race([check.catch((err) => ({ ok: false, detail: errorMessage(err) })), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** GET /metrics — Prometheus text format. Open like /health: put it behind your network, not a key. */
export async function metrics(deps: RouteDeps): Promise<HttpResponse> {
  const service = await deps.service()
  return {
    status: 200,
    headers: { 'content-type': service.metrics.contentType },
    body: await service.metrics.render(),
  }
}
