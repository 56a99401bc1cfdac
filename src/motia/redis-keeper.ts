import type { StateAdapter } from '@motiadev/core'
import type { Logger } from './log'
import type { Redis } from './redis'

/** Motia gives up reconnecting after ~6 s; past this long without a connection we reconnect it ourselves. */
const GIVE_UP_AFTER_MS = 8_000
const CHECK_EVERY_MS = 1_000

/**
 * Motia's shared Redis client (state, streams) has no 'error' listener, so the first dropped connection
 * crashes the process, and its reconnect strategy stops after ten tries. This attaches the listener and
 * revives the client once it has given up, so a Redis restart never needs a server restart.
 */
export function keepMotiaRedisAlive(state: StateAdapter, log: Logger): () => void {
  const client = (state as unknown as { client?: Redis }).client
  if (!client || typeof client.on !== 'function') return () => {}
  client.on('error', (err: Error) => log.warn({ err: err.message }, 'Motia Redis connection error'))
  let downSince: number | undefined
  let reviving = false
  const timer = setInterval(() => {
    if (client.isReady) {
      downSince = undefined
      return
    }
    downSince ??= Date.now()
    if (reviving || Date.now() - downSince < GIVE_UP_AFTER_MS) return
    reviving = true
    log.warn('Motia Redis client gave up reconnecting: reconnecting it')
    try {
      if (client.isOpen) client.destroy()
    } catch {}
    client
      .connect()
      .then(() => log.info('Motia Redis client reconnected'))
      .catch((err: Error) => log.warn({ err: err.message }, 'Motia Redis reconnect failed; retrying'))
      .finally(() => {
        reviving = false
        downSince = Date.now()
      })
  }, CHECK_EVERY_MS)
  timer.unref()
  return () => clearInterval(timer)
}
