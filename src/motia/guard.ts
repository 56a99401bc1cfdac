import type { EnvConfig } from '../config/env'
import { ApiKeyRing, AUTH_OFF_WARNING, authorize } from './http/auth'
import { RequestLimiter } from './http/rate-limit'
import type { Logger } from './log'
import type { RequestGuard } from './routes/context'
import type { AgentService } from './service'

/**
 * Auth (hashed API keys), per-key permissions and Redis rate limits for every agent route.
 * Throws a ConfigError for a broken keys file, or for no keys in production.
 */
export function createRequestGuard(env: EnvConfig, log: Logger, service: () => Promise<AgentService>): RequestGuard {
  const keys = ApiKeyRing.fromConfig({
    keys: env.AGENT_API_KEYS,
    file: env.AGENT_API_KEYS_FILE,
    requireKeys: env.NODE_ENV === 'production',
  })
  if (!keys.enabled) log.warn(AUTH_OFF_WARNING)
  let limiter: Promise<RequestLimiter> | undefined
  return {
    authenticate: (headers) => keys.authenticate(headers),
    authorize,
    async limit(principal, ip) {
      // Built on first use: it needs the Redis connection the service opens.
      limiter ??= service().then(
        (s) => new RequestLimiter(s.redis, { perKey: env.RATE_LIMIT_PER_MINUTE, perIp: env.RATE_LIMIT_IP_PER_MINUTE }),
      )
      return (await limiter).consume(principal.keyId, ip)
    },
  }
}
