import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/errors'
import { findOnPath, resolveRedisConfig } from '../../src/config/redis'

const saved = process.env.REDISMS_SYSTEM_BINARY
afterEach(() => {
  if (saved === undefined) delete process.env.REDISMS_SYSTEM_BINARY
  else process.env.REDISMS_SYSTEM_BINARY = saved
})

describe('resolveRedisConfig', () => {
  it('uses an external Redis from REDIS_URL, with credentials and database', () => {
    expect(resolveRedisConfig({ REDIS_URL: 'redis://app:s%40cret@redis.internal:6380/2' })).toEqual({
      useMemoryServer: false,
      host: 'redis.internal',
      port: 6380,
      username: 'app',
      password: 's@cret',
      db: 2,
    })
  })

  it('defaults the port to 6379 and leaves out what the URL does not say', () => {
    expect(resolveRedisConfig({ REDIS_URL: 'redis://localhost' })).toEqual({
      useMemoryServer: false,
      host: 'localhost',
      port: 6379,
      username: undefined,
      password: undefined,
      db: undefined,
    })
  })

  it.each([
    ['not a url', /REDIS_URL: not a URL \(expected redis:\/\/\[user:pass@\]host:port\[\/db\]\)/],
    ['http://localhost:6379', /REDIS_URL: protocol must be redis:\/\/ \(got http:\)/],
  ])('rejects REDIS_URL=%s with one line naming the variable', (url, message) => {
    const resolve = () => resolveRedisConfig({ REDIS_URL: url })
    expect(resolve).toThrow(ConfigError)
    expect(resolve).toThrow(message)
  })

  it('uses MOTIA_REDIS_HOST/PORT when set to another host', () => {
    expect(resolveRedisConfig({ MOTIA_REDIS_HOST: '10.0.0.5', MOTIA_REDIS_PORT: '7000' })).toMatchObject({
      useMemoryServer: false,
      host: '10.0.0.5',
      port: 7000,
    })
  })

  it('runs the embedded Redis with the redis-server found on PATH', () => {
    delete process.env.REDISMS_SYSTEM_BINARY
    const binary = findOnPath('redis-server', '/usr/bin')
    expect(binary).toBe('/usr/bin/redis-server')
    expect(resolveRedisConfig({ PATH: '/nonexistent:/usr/bin' })).toEqual({ useMemoryServer: true })
    expect(process.env.REDISMS_SYSTEM_BINARY).toBe('/usr/bin/redis-server')
  })

  it('says how to fix a machine without redis-server', () => {
    expect(() => resolveRedisConfig({ PATH: '/nonexistent' })).toThrow(
      'No redis-server found on PATH: run `npm run setup` or set REDIS_URL to an external Redis',
    )
  })
})
