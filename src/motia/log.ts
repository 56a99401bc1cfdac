import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import type { MotiaPluginContext, MotiaStream } from '@motiadev/core'
import pino from 'pino'

/** Structured JSON logs; every line about a task carries its executionId. */
export type Logger = pino.Logger

/** Motia's own log stream: what Workbench's Logs tab shows. */
const MOTIA_LOGS_STREAM = '__motia.logs'

/**
 * JSON lines on stdout, and, given Motia's plugin context, the same entries in Workbench's Logs tab
 * (trace id = the execution id, so a task's lines group together there).
 */
export function createLogger(level: string, motia?: MotiaPluginContext): Logger {
  const options = { level, base: { component: 'agent', pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }
  const logs = motia?.lockedData.getStreams()[MOTIA_LOGS_STREAM]?.() as MotiaStream<object> | undefined
  if (!logs) return pino(options)
  return pino(
    options,
    pino.multistream([
      { stream: process.stdout, level: 'trace' },
      { stream: workbenchSink(logs), level: 'trace' },
    ]),
  )
}

function workbenchSink(logs: MotiaStream<object>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      try {
        const { level, time, msg, executionId, pid: _pid, ...fields } = JSON.parse(chunk.toString())
        const id = randomUUID()
        const entry = {
          ...fields,
          id,
          level: pino.levels.labels[level] ?? 'info',
          time: Date.parse(time) || Date.now(),
          msg,
          traceId: executionId ?? 'agent',
          flows: ['agent'],
          ...(executionId && { executionId }),
        }
        void logs.set('default', id, entry).catch(() => undefined)
      } catch {
        // A line Workbench cannot take is still on stdout.
      }
      done()
    },
  })
}
