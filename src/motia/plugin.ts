import type { MotiaPlugin, MotiaPluginContext } from '@motiadev/core'
import type { Express } from 'express'
import { type EnvConfig, loadEnv } from '../config/env'
import { errorMessage } from '../config/errors'
import { createRequestGuard } from './guard'
import { installHttpGuards, MOTIA_INTERNAL_PATHS } from './http/guards'
import { createLogger, type Logger } from './log'
import { installProgressStream } from './progress-stream'
import { keepMotiaRedisAlive } from './redis-keeper'
import { registerRoutes } from './routes'
import type { RequestGuard } from './routes/context'
import { AgentService } from './service'
import { drainBeforeExit } from './shutdown'

/**
 * Our Motia plugin: the agent runs here, inside the server process, not in `.step.ts` files (Motia 0.17
 * spawns a Node process per step call). Routes and topic subscriptions are thin adapters over the
 * agent library; AgentService holds the shared pieces.
 */
let servicePromise: Promise<AgentService> | undefined
let guardInstance: RequestGuard | undefined

/** Settled once the plugin has started; routes and the Express extras wait on it. */
export const agentService = (): Promise<AgentService> => {
  if (!servicePromise) return Promise.reject(new Error('agent plugin not started'))
  return servicePromise
}

const requestGuard = (): RequestGuard => {
  if (!guardInstance) throw new Error('agent plugin not started')
  return guardInstance
}

let envConfig: EnvConfig | undefined

/** Validates the environment once (Motia calls `app` and the plugin separately); a bad value stops start-up with one line. */
export function loadEnvOrExit(): EnvConfig {
  try {
    envConfig ??= loadEnv()
    return envConfig
  } catch (err) {
    console.error(`[agent] ${errorMessage(err)}`)
    process.exit(1)
  }
}

/**
 * Express-level pieces plugin routes cannot express: guards that must run before Motia's own body
 * parsers and CORS, and the SSE stream. Called from motia.config.ts `app`.
 */
export function configureExpress(app: Express): void {
  const env = loadEnvOrExit()
  installHttpGuards(app, {
    corsOrigins: env.CORS_ORIGINS,
    maxBodyBytes: env.MAX_BODY_BYTES,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    trustProxy: env.TRUST_PROXY,
    // Motia's own /__motia routes read and write state unauthenticated: closed in production.
    blockedPaths: env.NODE_ENV === 'production' ? [MOTIA_INTERNAL_PATHS] : [],
  })
  installProgressStream(app, agentService, requestGuard)
}

export function agentPlugin(motia: MotiaPluginContext): MotiaPlugin {
  const env = loadEnvOrExit()
  const log: Logger = createLogger(env.LOG_LEVEL, motia)
  try {
    guardInstance = createRequestGuard(env, log, agentService)
  } catch (err) {
    console.error(`[agent] ${errorMessage(err)}`)
    process.exit(1)
  }
  keepMotiaRedisAlive(motia.state, log)
  servicePromise = AgentService.start(env, motia, log)
  let instanceId: string | undefined
  servicePromise.then(
    (service) => {
      instanceId = service.instanceId
      drainBeforeExit(
        () => service.drain(env.SHUTDOWN_GRACE_MS),
        (msg) => log.info(msg),
      )
      log.info({ instanceId }, 'agent service ready')
    },
    (err) => {
      // Broken agents.yaml, unknown skills, bad sandbox config: stop start-up with the one-line reason.
      log.fatal(errorMessage(err))
      console.error(`[agent] ${errorMessage(err)}`)
      process.exit(1)
    },
  )
  registerRoutes(motia, { service: agentService, guard: requestGuard() }, () => instanceId)
  // Workbench rejects the whole config when a plugin returns no workbench array.
  return { workbench: [] }
}
