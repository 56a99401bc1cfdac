import type { EventAdapter } from '@motiadev/core'
import { createClient, type RedisClientType } from 'redis'

export type Redis = RedisClientType

interface IoRedisLike {
  options?: { host?: string; port?: number; username?: string; password?: string; db?: number }
}

/**
 * Motia does not hand plugins its Redis connection info (the embedded server picks a port at boot),
 * but the BullMQ adapter exposes its ioredis connection; we connect our own clients to the same server.
 */
export function redisUrlFromEventAdapter(eventAdapter: EventAdapter): string {
  const connection = (eventAdapter as unknown as { connection?: IoRedisLike }).connection
  const o = connection?.options
  if (!o?.host || !o.port) throw new Error('Motia event adapter exposes no Redis connection (BullMQ adapter expected)')
  const auth = o.password ? `${encodeURIComponent(o.username ?? '')}:${encodeURIComponent(o.password)}@` : ''
  return `redis://${auth}${o.host}:${o.port}/${o.db ?? 0}`
}

/** A client that keeps reconnecting (capped backoff), so a Redis restart never needs a server restart. */
export async function connectRedis(url: string, onError?: (err: Error) => void): Promise<Redis> {
  const client: Redis = createClient({
    url,
    socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 3_000) },
  })
  client.on('error', (err: Error) => onError?.(err))
  await client.connect()
  return client
}
