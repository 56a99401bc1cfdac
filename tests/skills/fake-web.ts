import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

export interface FakeWebServer {
  url: string
  host: string
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[]
  close(): Promise<void>
}

/** A 127.0.0.1 HTTP server answering with the given route handlers (path without query → handler). */
export async function startFakeWeb(routes: Record<string, Handler>): Promise<FakeWebServer> {
  const requests: FakeWebServer['requests'] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body })
      const route = routes[(req.url ?? '/').split('?')[0]]
      if (route) route(req, res, body)
      else res.writeHead(404).end('not found')
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  }
}

export const json =
  (value: unknown, status = 200) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value))
  }

/** The shape SearXNG's `/search?format=json` answers with (fields trimmed to the common ones). */
export const searxngResponse = (query: string) => ({
  query,
  number_of_results: 2,
  results: [
    {
      url: 'https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/',
      title: 'Scale with Redis Cluster',
      content: 'Horizontal scaling with Redis Cluster.',
      engine: 'duckduckgo',
      engines: ['duckduckgo', 'brave'],
      positions: [1, 2],
      score: 4.0,
      category: 'general',
    },
    {
      url: 'https://docs.bullmq.io/guide/workers',
      title: 'Workers | BullMQ',
      content: 'Workers process jobs from queues.',
      engine: 'google',
      engines: ['google'],
      positions: [2],
      score: 1.5,
      category: 'general',
    },
  ],
  answers: [],
  corrections: [],
  infoboxes: [],
  suggestions: [],
  unresponsive_engines: [],
})

/** A 127.0.0.1 port with nothing listening (taken from the OS, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  await new Promise((done) => server.close(done))
  return port
}
