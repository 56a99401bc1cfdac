import cors from 'cors'
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import helmet from 'helmet'
import { type HttpResponse, problem } from '../problem'

export interface HttpGuardOptions {
  /** Browser origins allowed to call the API; empty = no cross-origin access. */
  corsOrigins: string[]
  maxBodyBytes: number
  requestTimeoutMs: number
  /** Express `trust proxy`; decides which address counts as the client's. Default false (the socket peer). */
  trustProxy?: boolean | number | string
  /** Paths exempt from the request timeout (long-lived streams). */
  timeoutExempt?: RegExp[]
  /** Path prefixes of the JSON API: they get a deny-all CSP and `no-store`; other paths are Workbench. */
  apiPrefixes?: string[]
  /** Paths answered 404 before anything else sees them, e.g. MOTIA_INTERNAL_PATHS in production. */
  blockedPaths?: RegExp[]
}

export const SSE_PATH = /^\/agent\/executions\/[^/]+\/events\/?$/
/**
 * Motia's Workbench back-end: state read/write, queue drain, step sources, flow config writes. None
 * of it checks our API keys, so production blocks it (and runs without Workbench).
 */
export const MOTIA_INTERNAL_PATHS = /^\/(__motia|motia)(\/|$)/
export const API_PREFIXES = ['/agent', '/skills', '/health', '/ready', '/metrics', '/openapi.json']

const CORS_ALLOWED_HEADERS = ['authorization', 'x-api-key', 'content-type', 'last-event-id', 'idempotency-key']
const CORS_EXPOSED_HEADERS = ['retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'location']

/**
 * Installs, ahead of everything Motia adds (call it from `motia.config.ts` `app`): security headers,
 * client-IP normalisation, closed-by-default CORS, a request timeout, and body parsers with a size
 * limit that answer JSON problems instead of Express' HTML error pages.
 */
export function installHttpGuards(app: Express, options: HttpGuardOptions): void {
  const apiPrefixes = options.apiPrefixes ?? API_PREFIXES
  app.set('trust proxy', options.trustProxy ?? false)
  app.use(securityHeaders(apiPrefixes))
  app.use(blockPaths(options.blockedPaths ?? []))
  app.use(normaliseClientIp)
  app.use(corsPolicy(options.corsOrigins))
  app.use(requestTimeout(options.requestTimeoutMs, options.timeoutExempt ?? [SSE_PATH]))
  app.use(bodyLimits(options.maxBodyBytes))
}

export function sendProblem(res: Response, response: HttpResponse): void {
  res
    .status(response.status)
    .set(response.headers ?? {})
    .json(response.body)
}

const isApiPath = (path: string, prefixes: string[]) =>
  prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))

function securityHeaders(apiPrefixes: string[]): RequestHandler {
  // Workbench (every non-API path) is a Vite app with inline scripts and CDN assets: no CSP there.
  const common = helmet({ contentSecurityPolicy: false })
  const apiCsp = helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  })
  return (req, res, next) => {
    common(req, res, (err?: unknown) => {
      if (err || !isApiPath(req.path, apiPrefixes)) return next(err)
      res.setHeader('cache-control', 'no-store')
      apiCsp(req, res, next)
    })
  }
}

function blockPaths(patterns: RegExp[]): RequestHandler {
  return (req, res, next) => {
    if (!patterns.some((pattern) => pattern.test(req.path))) return next()
    sendProblem(res, problem(404, 'not_found', `No route ${req.method} ${req.path}`))
  }
}

/**
 * Route handlers read the client address from `x-forwarded-for`; overwrite it with the address
 * Express derives under `trust proxy`, so a client cannot pick its own rate-limit bucket.
 */
function normaliseClientIp(req: Request, _res: Response, next: NextFunction): void {
  const ip = req.ip ?? req.socket.remoteAddress
  if (ip) req.headers['x-forwarded-for'] = ip
  else delete req.headers['x-forwarded-for']
  next()
}

function corsPolicy(origins: string[]): RequestHandler {
  const allowed = new Set(origins)
  const policy = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  })
  return (req, res, next) => {
    policy(req, res, (err?: unknown) => {
      if (err) return next(err)
      // Motia later sets "Access-Control-Allow-Origin: *" on every response; only our policy may speak CORS.
      const setHeader = res.setHeader.bind(res)
      res.setHeader = (name, value) => (/^access-control-/i.test(name) ? res : setHeader(name, value))
      // A preflight from an origin we do not allow: answer it here, without any CORS header.
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        res.status(204).end()
        return
      }
      next()
    })
  }
}

/** After the deadline: a 503 problem, and whatever the handler writes later is dropped (it cannot crash the process). */
function requestTimeout(timeoutMs: number, exempt: RegExp[]): RequestHandler {
  return (req, res, next) => {
    if (exempt.some((pattern) => pattern.test(req.path))) return next()
    const timer = setTimeout(() => {
      if (res.headersSent || res.writableEnded) return
      sendProblem(
        res,
        problem(
          503,
          'request_timeout',
          `The request did not complete within ${timeoutMs} ms; it may still take effect`,
        ),
      )
      silence(res)
    }, timeoutMs)
    timer.unref()
    res.once('close', () => clearTimeout(timer))
    next()
  }
}

function silence(res: Response): void {
  const ignore = () => res
  Object.assign(res, {
    setHeader: ignore,
    removeHeader: ignore,
    writeHead: ignore,
    write: () => true,
    end: ignore,
  })
}

const JSON_TYPES = ['application/json', 'application/*+json']

/**
 * Motia parses json, urlencoded and text bodies up to 1 GB; parsing them first, with our limit, makes
 * Motia's parsers skip. `rawBody` is set the way Motia does, and kept when Motia later resets it.
 */
function bodyLimits(maxBytes: number): RequestHandler {
  const verify = (req: Request, _res: Response, buf: Buffer, encoding: string) => {
    const raw = buf.toString((encoding || 'utf8') as BufferEncoding)
    Object.defineProperty(req, 'rawBody', { configurable: true, enumerable: true, get: () => raw, set: () => {} })
  }
  const parsers = [
    express.json({ limit: maxBytes, type: JSON_TYPES, verify }),
    express.urlencoded({ limit: maxBytes, extended: true, verify }),
    express.text({ limit: maxBytes, verify }),
  ]
  return (req, res, next) => {
    // Checked up front so bodies of types nobody parses are bounded too.
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      sendBodyProblem(res, { type: 'entity.too.large' }, maxBytes)
      return
    }
    const run = (index: number): void => {
      const parser = parsers[index]
      if (!parser) {
        next()
        return
      }
      parser(req, res, (err?: unknown) => (err ? sendBodyProblem(res, err, maxBytes) : run(index + 1)))
    }
    run(0)
  }
}

function sendBodyProblem(res: Response, err: unknown, maxBytes: number): void {
  const { type, status, message } = err as { type?: string; status?: number; message?: string }
  if (type === 'entity.too.large') {
    // The rest of the body is never read; closing the connection keeps it from being parsed as the next request.
    res.setHeader('connection', 'close')
    sendProblem(res, problem(413, 'payload_too_large', `Request body is larger than ${maxBytes} bytes`))
  } else if (type === 'entity.parse.failed') {
    sendProblem(res, problem(400, 'invalid_json', `Request body is not valid JSON: ${message ?? 'parse error'}`))
  } else {
    const clientStatus = status && status >= 400 && status < 500 ? status : 400
    sendProblem(res, problem(clientStatus, 'invalid_body', message ?? 'Unreadable request body'))
  }
}
