import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type Express } from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { type HttpGuardOptions, installHttpGuards, MOTIA_INTERNAL_PATHS } from '../../src/motia/http/guards'

type RawBodyRequest = express.Request & { rawBody?: string }

const servers: Server[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

/** Our guards first, then what Motia's createServer installs after `config.app`, then routes. */
async function startApp(options: Partial<HttpGuardOptions> = {}, routes?: (app: Express) => void): Promise<string> {
  const app = express()
  installHttpGuards(app, { corsOrigins: [], maxBodyBytes: 1024, requestTimeoutMs: 5_000, ...options })
  app.use((req, _res, next) => {
    ;(req as RawBodyRequest).rawBody = ''
    next()
  })
  app.use(
    express.json({
      limit: '1gb',
      verify: (req, _res, buf) => {
        ;(req as RawBodyRequest).rawBody = buf.toString('utf8')
      },
    }),
  )
  app.use(express.text({ limit: '1gb' }))
  const motiaCors = (res: express.Response) => {
    res.header('Access-Control-Allow-Origin', '*')
    res.header('Access-Control-Allow-Methods', '*')
    res.header('Access-Control-Allow-Headers', '*')
  }
  app.options('*', (_req, res) => {
    motiaCors(res)
    res.status(204).end()
  })
  app.use((_req, res, next) => {
    motiaCors(res)
    next()
  })
  app.post('/agent/execute', (req, res) => {
    res.status(202).json({ body: req.body, rawBody: (req as RawBodyRequest).rawBody })
  })
  app.get('/agent/whoami', (req, res) => {
    res.json({ forwardedFor: req.headers['x-forwarded-for'] })
  })
  app.get('/', (_req, res) => {
    res.type('html').send('<!doctype html><script>window.workbench = 1</script>')
  })
  routes?.(app)
  const server = app.listen(0, '127.0.0.1')
  servers.push(server)
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const postJson = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })

describe('security headers', () => {
  it('sets the standard headers on API responses, with a deny-all CSP and no-store', async () => {
    const base = await startApp()
    const res = await postJson(`${base}/agent/execute`, '{"task":"x"}')
    expect(res.status).toBe(202)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/)
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'")
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('x-powered-by')).toBeNull()
  })

  it('keeps the Workbench page working: standard headers but no CSP blocking its inline scripts', async () => {
    const base = await startApp()
    const res = await fetch(`${base}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toBeNull()
    expect(res.headers.get('cache-control')).toBeNull()
  })

  it('sets them on responses of unknown paths too', async () => {
    const base = await startApp()
    const res = await fetch(`${base}/agent/nope`)
    expect(res.status).toBe(404)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
  })
})

describe('body limits', () => {
  it('passes a parsed body, and Motia-style rawBody, through to the route', async () => {
    const base = await startApp()
    const res = await postJson(`${base}/agent/execute`, '{"task":"hello"}')
    expect(await res.json()).toEqual({ body: { task: 'hello' }, rawBody: '{"task":"hello"}' })
  })

  it('answers a body over the limit with a 413 problem', async () => {
    const base = await startApp()
    const res = await postJson(`${base}/agent/execute`, JSON.stringify({ task: 'x'.repeat(2_000) }))
    expect(res.status).toBe(413)
    expect(res.headers.get('content-type')).toContain('application/problem+json')
    expect(await res.json()).toMatchObject({ status: 413, code: 'payload_too_large' })
  })

  it('counts the bytes of a chunked body that declares no length', async () => {
    const base = await startApp()
    const chunk = new TextEncoder().encode(`"${'y'.repeat(600)}`)
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"task":'))
        controller.enqueue(chunk)
        controller.enqueue(chunk)
        controller.enqueue(new TextEncoder().encode('"}'))
        controller.close()
      },
    })
    const res = await fetch(`${base}/agent/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ code: 'payload_too_large' })
  })

  it('limits text bodies too (Motia would accept 1 GB of them)', async () => {
    const base = await startApp()
    const res = await fetch(`${base}/agent/execute`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'z'.repeat(5_000),
    })
    expect(res.status).toBe(413)
  })

  it('rejects an over-long declared body of a type nothing parses', async () => {
    const base = await startApp()
    const res = await fetch(`${base}/agent/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(4_096),
    })
    expect(res.status).toBe(413)
    expect(res.headers.get('connection')).toBe('close')
  })

  it('answers malformed JSON with a 400 problem, not an HTML page', async () => {
    const base = await startApp()
    const res = await postJson(`${base}/agent/execute`, '{"task": ')
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toContain('application/problem+json')
    expect(await res.json()).toMatchObject({ status: 400, code: 'invalid_json', title: 'Bad Request' })
  })
})

describe('request timeout', () => {
  const slowRoutes = (app: Express) => {
    app.get('/agent/slow', (_req, res) => {
      // Writes after the deadline must be ignored, not throw ERR_HTTP_HEADERS_SENT.
      setTimeout(() => res.setHeader('x-late', '1').status(200).json({ late: true }), 400)
    })
    app.get('/agent/executions/:id/events', (_req, res) => {
      setTimeout(() => res.status(200).type('text/event-stream').send('event: done\ndata: {}\n\n'), 400)
    })
  }

  it('answers 503 with a problem when a handler is too slow, and keeps serving', async () => {
    const errors: unknown[] = []
    const onError = (err: unknown) => errors.push(err)
    process.on('uncaughtException', onError)
    try {
      const base = await startApp({ requestTimeoutMs: 100 }, slowRoutes)
      const res = await fetch(`${base}/agent/slow`)
      expect(res.status).toBe(503)
      expect(res.headers.get('x-late')).toBeNull()
      expect(await res.json()).toMatchObject({ status: 503, code: 'request_timeout' })
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(errors).toEqual([])
      expect((await postJson(`${base}/agent/execute`, '{}')).status).toBe(202)
    } finally {
      process.off('uncaughtException', onError)
    }
  })

  it('exempts the SSE progress stream', async () => {
    const base = await startApp({ requestTimeoutMs: 100 }, slowRoutes)
    const res = await fetch(`${base}/agent/executions/abc/events`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('event: done')
  })
})

describe('CORS', () => {
  const origin = 'https://app.example.com'

  it('is closed by default: Motia\'s "*" headers are stripped, preflights get no CORS headers', async () => {
    const base = await startApp()
    const res = await postJson(`${base}/agent/execute`, '{}', { origin })
    expect(res.status).toBe(202)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    expect(res.headers.get('access-control-allow-methods')).toBeNull()

    const preflight = await fetch(`${base}/agent/execute`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull()
  })

  it('allows configured origins only', async () => {
    const base = await startApp({ corsOrigins: [origin] })
    const allowed = await postJson(`${base}/agent/execute`, '{}', { origin })
    expect(allowed.headers.get('access-control-allow-origin')).toBe(origin)
    expect(allowed.headers.get('access-control-expose-headers')).toContain('retry-after')
    expect(allowed.headers.get('vary')).toContain('Origin')

    const other = await postJson(`${base}/agent/execute`, '{}', { origin: 'https://evil.example' })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()

    const preflight = await fetch(`${base}/agent/execute`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin)
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,POST,DELETE')
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization')
    expect(preflight.headers.get('access-control-allow-headers')).not.toBe('*')
  })
})

describe('blocked paths', () => {
  const motiaInternals = (app: Express) => {
    app.get('/__motia/state', (_req, res) => {
      res.json({ secret: 'every execution record' })
    })
    app.get('/motia/analytics/status', (_req, res) => {
      res.json({ ok: true })
    })
  }

  it("answers 404 for Motia's unauthenticated Workbench back-end when told to, and leaves the API alone", async () => {
    const closed = await startApp({ blockedPaths: [MOTIA_INTERNAL_PATHS] }, motiaInternals)
    for (const path of ['/__motia/state', '/__motia', '/motia/analytics/status']) {
      const res = await fetch(`${closed}${path}`)
      expect(res.status).toBe(404)
      expect(await res.json()).toMatchObject({ code: 'not_found' })
    }
    expect((await postJson(`${closed}/agent/execute`, '{}')).status).toBe(202)
    const lookalike = await fetch(`${closed}/__motia_not_internal`)
    expect(lookalike.headers.get('content-type')).not.toContain('problem+json')

    const openApp = await startApp({}, motiaInternals)
    expect((await fetch(`${openApp}/__motia/state`)).status).toBe(200)
  })
})

describe('client IP', () => {
  it('ignores a client-supplied X-Forwarded-For unless a proxy is trusted', async () => {
    const direct = await startApp()
    const spoofed = await fetch(`${direct}/agent/whoami`, { headers: { 'x-forwarded-for': '203.0.113.9' } })
    expect(((await spoofed.json()) as { forwardedFor: string }).forwardedFor).toMatch(/127\.0\.0\.1$/)

    const behindProxy = await startApp({ trustProxy: 'loopback' })
    const forwarded = await fetch(`${behindProxy}/agent/whoami`, { headers: { 'x-forwarded-for': '203.0.113.9' } })
    expect(((await forwarded.json()) as { forwardedFor: string }).forwardedFor).toBe('203.0.113.9')
  })
})
