import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RequestLimiter, RunningTaskBudget } from '../../src/motia/http/rate-limit'
import type { HttpResponse } from '../../src/motia/problem'
import { connectRedis, type Redis } from '../../src/motia/redis'
import { startRedis, type TestRedis } from '../helpers/redis'

const detailOf = (response: HttpResponse | null) => (response?.body as { detail?: string } | undefined)?.detail

let server: TestRedis
let a: Redis
let b: Redis

beforeAll(async () => {
  server = await startRedis()
  // Two connections stand for two service instances sharing one Redis.
  a = await connectRedis(server.url)
  b = await connectRedis(server.url)
})

afterAll(async () => {
  await Promise.allSettled([a?.quit(), b?.quit()])
  await server?.stop()
})

beforeEach(async () => {
  await a.flushAll()
})

describe('RequestLimiter', () => {
  it('shares one per-key budget across two instances and answers 429 with Retry-After', async () => {
    const first = new RequestLimiter(a, { perKey: 3, perIp: 0 })
    const second = new RequestLimiter(b, { perKey: 3, perIp: 0 })
    expect(await first.consume('key-a', '10.0.0.1')).toBeNull()
    expect(await second.consume('key-a', '10.0.0.2')).toBeNull()
    expect(await first.consume('key-a', '10.0.0.3')).toBeNull()

    const refused = await second.consume('key-a', '10.0.0.4')
    expect(refused?.status).toBe(429)
    expect(refused?.headers?.['content-type']).toBe('application/problem+json')
    const retryAfter = Number(refused?.headers?.['retry-after'])
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(refused?.body).toMatchObject({ status: 429, code: 'rate_limited' })
    expect(detailOf(refused)).toContain('per API key')

    // Another key has its own budget.
    expect(await first.consume('key-b', '10.0.0.1')).toBeNull()
  })

  it('limits per client IP whatever the key', async () => {
    const first = new RequestLimiter(a, { perKey: 0, perIp: 2 })
    const second = new RequestLimiter(b, { perKey: 0, perIp: 2 })
    expect(await first.consume('key-a', '192.0.2.7')).toBeNull()
    expect(await second.consume('key-b', '192.0.2.7')).toBeNull()
    const refused = await first.consume('key-c', '192.0.2.7')
    expect(refused?.status).toBe(429)
    expect(detailOf(refused)).toContain('per client IP')
    expect(await second.consume('key-a', '192.0.2.8')).toBeNull()
  })

  it('does not give the shared anonymous principal a per-key budget (the IP limit applies)', async () => {
    const limiter = new RequestLimiter(a, { perKey: 1, perIp: 5 })
    for (let i = 0; i < 5; i++) expect(await limiter.consume('anonymous', `198.51.100.${i}`)).toBeNull()
  })

  it('slides: a slot frees when its request leaves the window, not when a fixed window resets', async () => {
    const limiter = new RequestLimiter(a, { perKey: 2, perIp: 0, windowSeconds: 1 })
    expect(await limiter.consume('key-s', 'ip')).toBeNull()
    await sleep(600)
    expect(await limiter.consume('key-s', 'ip')).toBeNull()
    expect((await limiter.consume('key-s', 'ip'))?.status).toBe(429)
    // Refused requests are not logged, so they do not extend the wait.
    expect(await a.zCard('agent:ratelimit:key:key-s')).toBe(2)
    await sleep(500)
    // Only the first request has left the window; a fixed window would have granted two fresh slots here.
    expect(await limiter.consume('key-s', 'ip')).toBeNull()
    expect((await limiter.consume('key-s', 'ip'))?.status).toBe(429)
  })

  it('keeps answering from an in-memory fallback while Redis is down, then uses Redis again', async () => {
    const limiter = new RequestLimiter(a, { perKey: 2, perIp: 0 })
    await server.stop()
    try {
      expect(await limiter.consume('key-d', 'ip')).toBeNull()
      expect(await limiter.consume('key-d', 'ip')).toBeNull()
      expect((await limiter.consume('key-d', 'ip'))?.status).toBe(429)
    } finally {
      await server.restart()
    }
    while (!a.isReady || !b.isReady) await sleep(50)
    const other = new RequestLimiter(b, { perKey: 2, perIp: 0 })
    expect(await limiter.consume('key-e', 'ip')).toBeNull()
    expect(await other.consume('key-e', 'ip')).toBeNull()
    expect((await limiter.consume('key-e', 'ip'))?.status).toBe(429)
  })
})

describe('RunningTaskBudget', () => {
  it('caps concurrent tasks per key across instances and frees slots on release', async () => {
    const first = new RunningTaskBudget(a, { maxPerKey: 2 })
    const second = new RunningTaskBudget(b, { maxPerKey: 2 })
    expect(await first.tryAcquire('key-a', 'exec-1')).toBeNull()
    expect(await second.tryAcquire('key-a', 'exec-2')).toBeNull()
    const refused = await first.tryAcquire('key-a', 'exec-3')
    expect(refused?.status).toBe(429)
    expect(refused?.headers?.['retry-after']).toBe('5')
    expect(refused?.body).toMatchObject({ code: 'too_many_running_tasks' })
    // Re-acquiring a slot the execution already holds is not a new task (a redelivered job).
    expect(await second.tryAcquire('key-a', 'exec-1')).toBeNull()
    expect(await first.tryAcquire('key-b', 'exec-4')).toBeNull()

    await second.release('key-a', 'exec-1')
    await second.release('key-a', 'exec-1')
    expect(await first.held('key-a')).toBe(1)
    expect(await first.tryAcquire('key-a', 'exec-3')).toBeNull()
  })

  it('frees a slot whose holder never released it once its lease lapses', async () => {
    const budget = new RunningTaskBudget(a, { maxPerKey: 1, leaseMs: 300 })
    expect(await budget.tryAcquire('key-l', 'lost-task')).toBeNull()
    expect((await budget.tryAcquire('key-l', 'next-task'))?.status).toBe(429)
    await sleep(400)
    expect(await budget.tryAcquire('key-l', 'next-task')).toBeNull()
    expect(await a.pTTL('agent:running:key-l')).toBeGreaterThan(0)
  })

  it('is unlimited with maxPerKey 0', async () => {
    const budget = new RunningTaskBudget(a, { maxPerKey: 0 })
    for (let i = 0; i < 20; i++) expect(await budget.tryAcquire('key-u', `e${i}`)).toBeNull()
  })
})
