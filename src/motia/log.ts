import pino from 'pino'

/** Structured JSON logs; every line about a task carries its executionId (and traceId where known). */
export type Logger = pino.Logger

export function createLogger(level: string): Logger {
  return pino({ level, base: { component: 'agent', pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime })
}
