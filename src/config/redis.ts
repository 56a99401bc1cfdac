import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { RedisConfig } from '@motiadev/core'
import { ConfigError } from './errors'

/** First executable called `name` on PATH, or undefined. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/**
 * Redis for Motia: `REDIS_URL` (or MOTIA_REDIS_HOST/PORT) means an external server; otherwise
 * Motia's memory server runs the system `redis-server` (REDISMS_SYSTEM_BINARY), which works offline.
 */
export function resolveRedisConfig(env: NodeJS.ProcessEnv = process.env): RedisConfig {
  const url = env.REDIS_URL?.trim()
  if (url) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new ConfigError(
        `Invalid environment variable REDIS_URL: not a URL (expected redis://[user:pass@]host:port[/db])`,
      )
    }
    if (parsed.protocol !== 'redis:') {
      throw new ConfigError(
        `Invalid environment variable REDIS_URL: protocol must be redis:// (got ${parsed.protocol})`,
      )
    }
    const db = parsed.pathname.replace('/', '')
    return {
      useMemoryServer: false,
      host: parsed.hostname,
      port: Number(parsed.port || 6379),
      username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
      password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
      db: db ? Number(db) : undefined,
    }
  }
  if (env.MOTIA_REDIS_HOST && env.MOTIA_REDIS_HOST !== '127.0.0.1') {
    return {
      useMemoryServer: false,
      host: env.MOTIA_REDIS_HOST,
      port: Number(env.MOTIA_REDIS_PORT || 6379),
      password: env.MOTIA_REDIS_PASSWORD,
    }
  }
  if (!env.REDISMS_SYSTEM_BINARY) {
    const binary = findOnPath('redis-server', env.PATH)
    if (!binary) {
      throw new ConfigError('No redis-server found on PATH: run `npm run setup` or set REDIS_URL to an external Redis')
    }
    // redis-memory-server reads this when it starts the embedded server, after the config is loaded.
    process.env.REDISMS_SYSTEM_BINARY = binary
  }
  process.env.REDISMS_DISABLE_POSTINSTALL = '1'
  return { useMemoryServer: true }
}
