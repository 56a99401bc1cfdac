import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { type HttpResponse, problem } from '../problem'
import type { Redis } from '../redis'
import { ANONYMOUS } from './auth'

/**
 * Sliding-window log for RateLimiterRedis (its own algorithm is a fixed window, which lets a client
 * spend twice the limit across a window boundary). Plugged in through the library's
 * `customIncrTtlLuaScript` hook; it keeps the library's contract: ARGV = points, window seconds,
 * limit; returns { points in the window incl. this request, ms until a slot frees }. Requests that
 * are refused are not logged, so a client hammering a full window does not extend its own ban.
 * Redis' own clock is used, so instances with skewed clocks agree.
 */
const SLIDING_WINDOW_LUA = `
local key = KEYS[1]
local points = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2]) * 1000
local limit = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
local count = redis.call('ZCARD', key)
local function msUntilFreed(n)
  local entry = redis.call('ZRANGE', key, n - 1, n - 1, 'WITHSCORES')
  if entry[2] == nil then return windowMs end
  return math.max(tonumber(entry[2]) + windowMs - now, 1)
end
if count + points > limit then
  return { count + points, msUntilFreed(count + points - limit) }
end
for i = 1, points do
  redis.call('ZADD', key, now, now .. ':' .. (count + i))
end
redis.call('PEXPIRE', key, windowMs)
return { count + points, msUntilFreed(1) }
`

export interface RequestLimits {
  /** Requests per window per API key; 0 = unlimited. Not applied to the anonymous principal. */
  perKey: number
  /** Requests per window per client IP; 0 = unlimited. */
  perIp: number
  /** Window length; 60 s unless a test needs a short one. */
  windowSeconds?: number
}

type Scope = 'API key' | 'client IP'

interface ScopedLimiter {
  scope: Scope
  limit: number
  limiter: RateLimiterRedis
}

function slidingLimiter(redis: Redis, points: number, duration: number, keyPrefix: string): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    useRedisPackage: true,
    customIncrTtlLuaScript: SLIDING_WINDOW_LUA,
    keyPrefix,
    points,
    duration,
    // While Redis is unreachable each instance limits on its own (fixed window in memory) instead of failing requests.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ points, duration, keyPrefix }),
  })
}

function tooMany(scope: Scope, limit: number, windowSeconds: number, res: RateLimiterRes): HttpResponse {
  const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000))
  const response = problem(
    429,
    'rate_limited',
    `Rate limit exceeded: at most ${limit} requests per ${windowSeconds} s per ${scope}; retry in ${retryAfter} s`,
  )
  return {
    ...response,
    headers: {
      ...response.headers,
      'retry-after': String(retryAfter),
      'ratelimit-limit': String(limit),
      'ratelimit-remaining': '0',
    },
  }
}

/** Per-key and per-IP request limits over Redis, so every instance counts against the same budget. */
export class RequestLimiter {
  private readonly limiters: { key?: ScopedLimiter; ip?: ScopedLimiter }
  private readonly windowSeconds: number

  constructor(redis: Redis, limits: RequestLimits, keyPrefix = 'agent:ratelimit') {
    this.windowSeconds = limits.windowSeconds ?? 60
    const scoped = (scope: Scope, limit: number, name: string): ScopedLimiter | undefined =>
      limit > 0
        ? { scope, limit, limiter: slidingLimiter(redis, limit, this.windowSeconds, `${keyPrefix}:${name}`) }
        : undefined
    this.limiters = { key: scoped('API key', limits.perKey, 'key'), ip: scoped('client IP', limits.perIp, 'ip') }
  }

  /** Counts one request; null when it may proceed, else a 429 problem with Retry-After. */
  async consume(keyId: string, ip: string): Promise<HttpResponse | null> {
    const checks: [ScopedLimiter | undefined, string][] = [
      [keyId === ANONYMOUS.keyId ? undefined : this.limiters.key, keyId],
      [this.limiters.ip, ip],
    ]
    const outcomes = await Promise.all(
      checks.map(async ([scoped, id]) => {
        if (!scoped) return null
        try {
          await scoped.limiter.consume(id)
          return null
        } catch (rejection) {
          if (rejection instanceof RateLimiterRes) return { scoped, res: rejection }
          throw rejection
        }
      }),
    )
    const refused = outcomes.filter((o) => o !== null).sort((a, b) => b.res.msBeforeNext - a.res.msBeforeNext)[0]
    return refused ? tooMany(refused.scoped.scope, refused.scoped.limit, this.windowSeconds, refused.res) : null
  }
}

/**
 * Atomically: drop expired leases, then take a slot if fewer than the limit are held. Re-acquiring
 * an execution already holding a slot only renews it. Each slot expires on its own (a crashed
 * instance never releases), and the whole key expires with the newest lease.
 */
const ACQUIRE_LUA = `
local key = KEYS[1]
local member = ARGV[1]
local max = tonumber(ARGV[2])
local leaseMs = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if not redis.call('ZSCORE', key, member) and redis.call('ZCARD', key) >= max then
  return 0
end
redis.call('ZADD', key, now + leaseMs, member)
redis.call('PEXPIRE', key, leaseMs)
return 1
`

export interface RunningTaskBudgetOptions {
  /** Tasks one key may hold at once; 0 = unlimited. Also applies to the anonymous principal (shared). */
  maxPerKey: number
  /** A slot not released within this time frees itself (lost instance); longer than any task should run. */
  leaseMs?: number
  /** Retry-After sent with the 429: a hint, since when a task ends is unknown. */
  retryAfterSeconds?: number
  keyPrefix?: string
}

/** Per-key budget of concurrent tasks, counted in Redis across instances. */
export class RunningTaskBudget {
  private readonly leaseMs: number
  private readonly keyPrefix: string

  constructor(
    private readonly redis: Redis,
    private readonly options: RunningTaskBudgetOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 6 * 60 * 60 * 1000
    this.keyPrefix = options.keyPrefix ?? 'agent:running'
  }

  private key(keyId: string): string {
    return `${this.keyPrefix}:${keyId}`
  }

  /** Takes a slot for the execution; null when granted (or unlimited), else a 429 problem. */
  async tryAcquire(keyId: string, executionId: string): Promise<HttpResponse | null> {
    const max = this.options.maxPerKey
    if (max <= 0) return null
    const granted = await this.redis.eval(ACQUIRE_LUA, {
      keys: [this.key(keyId)],
      arguments: [executionId, String(max), String(this.leaseMs)],
    })
    if (granted === 1) return null
    const response = problem(
      429,
      'too_many_running_tasks',
      `This API key already has ${max} task(s) queued or running; wait for one to finish`,
    )
    return {
      ...response,
      headers: { ...response.headers, 'retry-after': String(this.options.retryAfterSeconds ?? 5) },
    }
  }

  /** Frees the execution's slot; safe to call more than once or for an execution that never had one. */
  async release(keyId: string, executionId: string): Promise<void> {
    await this.redis.zRem(this.key(keyId), executionId)
  }

  /** Slots currently held by the key (expired leases excluded). */
  async held(keyId: string): Promise<number> {
    return this.redis.zCount(this.key(keyId), Date.now(), '+inf')
  }
}
