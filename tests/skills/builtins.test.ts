import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLlmClient } from '../../src/llm'
import type { SkillsConfig } from '../../src/skills/config'
import { SkillRegistry } from '../../src/skills/registry'
import { type FakeLlmServer, startFakeLlmServer } from '../fake-llm/server'
import { closedPort, type FakeWebServer, json, searxngResponse, startFakeWeb } from './fake-web'
import { callSkill, ROOT, skillContext, tempDir } from './helpers'

const BUILTINS = ['code-analysis', 'http-fetch', 'list-files', 'read-file', 'summarize', 'web-search', 'write-file']

const config = (settings: SkillsConfig['settings'] = {}): SkillsConfig => ({
  extraDirs: [],
  disabled: [],
  settings: { 'web-search': { documentFolders: ['tests/fixtures/docs'] }, ...settings },
})

const load = (env: Record<string, string> = {}, settings: SkillsConfig['settings'] = {}) =>
  SkillRegistry.load({ rootDir: ROOT, skillsConfig: config(settings), env })

describe('built-in skills', () => {
  const workspace = tempDir('builtin-ws')
  const ctx = () => skillContext(workspace.path)
  let web: FakeWebServer
  let registry: SkillRegistry

  beforeAll(async () => {
    web = await startFakeWeb({
      '/search': (req, res) =>
        json(searxngResponse(new URL(req.url ?? '', 'http://x').searchParams.get('q') ?? ''))(req, res),
      '/brave': json({
        web: { results: [{ title: 'Brave hit', url: 'https://b.example', description: 'from brave' }] },
      }),
      '/tavily': json({ results: [{ title: 'Tavily hit', url: 'https://t.example', content: 'from tavily' }] }),
      '/broken': json({ error: 'down' }, 500),
      '/page': (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(
            '<html><head><title>T</title><style>p{color:red}</style></head><body><nav>Home | About</nav>' +
              '<h1>Release notes</h1><p>Version 2 adds <a href="/x">streaming</a>.</p><script>alert(1)</script></body></html>',
          ),
      '/redirect-out': (_req, res) => res.writeHead(302, { location: 'http://evil.example/' }).end(),
      '/redirect-in': (_req, res) => res.writeHead(301, { location: '/page' }).end(),
      '/binary': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end('PNG'),
      '/long': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('word '.repeat(100)),
    })
    registry = await load({}, { 'http-fetch': { allowHosts: [web.host] } })
  })
  afterAll(async () => {
    await registry.close()
    await web.close()
    workspace.cleanup()
  })

  it('all load without errors and with the pinned signatures', () => {
    expect(registry.loadErrors).toEqual([])
    expect(registry.list().map((s) => s.name)).toEqual(BUILTINS)
    expect(registry.get('web-search')?.signature).toBe('web_search(query: str, max_results: int = 5) -> list[dict]')
    expect(registry.get('summarize')?.signature).toBe('summarize(text: str, max_words: int = 120) -> str')
    expect(registry.get('code-analysis')?.signature).toBe('code_analysis(code: str, language: str = "python") -> dict')
    expect(registry.get('http-fetch')?.signature).toBe('http_fetch(url: str, max_chars: int = 20000) -> str')
  })

  describe('web-search', () => {
    it('answers from the local BM25 index when no provider is configured', async () => {
      const hits = (await callSkill(registry, ctx(), 'web_search', ['redis memory server'], {}, ['web-search'])) as {
        title: string
        url: string
        snippet: string
        provider: string
      }[]
      expect(hits.length).toBeGreaterThan(0)
      expect(hits[0]).toMatchObject({
        title: 'tests/fixtures/docs/redis-scaling.md › Embedded Redis',
        url: 'tests/fixtures/docs/redis-scaling.md#embedded-redis',
        provider: 'local-index',
      })
      expect(hits[0].snippet).toContain('memory server')
      const kettle = (await callSkill(registry, ctx(), 'web-search', ['vinegar kettle'], { max_results: 1 })) as {
        url: string
      }[]
      expect(kettle.map((h) => h.url)).toEqual(['tests/fixtures/docs/notes.txt'])
    })

    it('asks SearXNG when SEARXNG_URL is set', async () => {
      const searx = await load({ SEARXNG_URL: web.url })
      try {
        const hits = await callSkill(searx, ctx(), 'web-search', ['redis scaling'], { max_results: 1 })
        expect(hits).toEqual([
          {
            title: 'Scale with Redis Cluster',
            url: 'https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/',
            snippet: 'Horizontal scaling with Redis Cluster.',
            provider: 'searxng',
          },
        ])
        const request = web.requests.findLast((r) => r.url.startsWith('/search'))
        expect(request?.url).toBe('/search?q=redis+scaling&format=json')
      } finally {
        await searx.close()
      }
    })

    it('falls through a failing provider to the next configured one', async () => {
      const settings = {
        'web-search': { documentFolders: [], braveEndpoint: `${web.url}/broken`, tavilyEndpoint: `${web.url}/tavily` },
      }
      const both = await load({ BRAVE_API_KEY: 'brave-key', TAVILY_API_KEY: 'tavily-key' }, settings)
      try {
        const hits = (await callSkill(both, ctx(), 'web-search', ['x'])) as { provider: string }[]
        expect(hits).toEqual([
          { title: 'Tavily hit', url: 'https://t.example', snippet: 'from tavily', provider: 'tavily' },
        ])
        const tavily = web.requests.findLast((r) => r.url === '/tavily')
        expect(tavily?.headers.authorization).toBe('Bearer tavily-key')
        expect(JSON.parse(tavily?.body ?? '{}')).toEqual({ query: 'x', max_results: 5 })
      } finally {
        await both.close()
      }
    })

    it('reports every failure when no provider answers', async () => {
      const settings = { 'web-search': { braveEndpoint: `${web.url}/broken` } }
      const port = await closedPort()
      const brave = await load({ BRAVE_API_KEY: 'k', SEARXNG_URL: `http://127.0.0.1:${port}` }, settings)
      try {
        await expect(callSkill(brave, ctx(), 'web-search', ['x'])).rejects.toThrow(
          `web_search(): every search provider failed (searxng: SearXNG unreachable: connect ECONNREFUSED 127.0.0.1:${port}; brave: Brave answered HTTP 500)`,
        )
      } finally {
        await brave.close()
      }
    })
  })

  describe('summarize', () => {
    let llm: FakeLlmServer
    beforeAll(async () => {
      llm = await startFakeLlmServer()
    })
    afterAll(() => llm.close())

    const text =
      'BullMQ queues hold the jobs. Workers on every instance take jobs from the queues. ' +
      'The weather was nice that day. Redis keeps the queues and the state for all workers.'

    it('asks the configured LLM through the LLM layer', async () => {
      llm.enqueue('Workers on all instances share BullMQ queues kept in Redis.')
      const client = createLlmClient({
        name: 'default',
        type: 'openai-compatible',
        model: 'fake-1',
        baseUrl: llm.openaiBaseUrl,
        apiKey: 'k',
      })
      const summary = await callSkill(registry, skillContext(workspace.path, { llm: client }), 'summarize', [text], {
        max_words: 40,
      })
      expect(summary).toBe('Workers on all instances share BullMQ queues kept in Redis.')
      const request = llm.requests.at(-1)
      expect(request?.lastUserMessage).toBe(text)
      expect(request?.system).toMatch(/at most\s+40\s+words/)
    })

    it('falls back to an extractive summary and says so', async () => {
      const summary = (await callSkill(registry, ctx(), 'summarize', [text], { max_words: 20 })) as string
      expect(summary.startsWith('[extractive summary: no LLM configured] ')).toBe(true)
      const body = summary.replace('[extractive summary: no LLM configured] ', '')
      expect(body.split(/\s+/).length).toBeLessThanOrEqual(20)
      expect(body).toContain('queues')
      expect(body).not.toContain('weather')
    })

    it('does not take the scripted provider for a model', async () => {
      const scripted = createLlmClient({
        name: 'demo',
        type: 'scripted',
        model: 'demo',
        scriptFile: 'config/scripted-demo.yaml',
      })
      const summary = (await callSkill(registry, skillContext(workspace.path, { llm: scripted }), 'summarize', [text], {
        max_words: 20,
      })) as string
      expect(summary).toMatch(/^\[extractive summary: the configured provider is scripted replies, not a model\] /)
      expect(summary).not.toContain('```')
    })
  })

  describe('code-analysis', () => {
    const snippet = readFileSync(join(ROOT, 'tests/fixtures/docs/sample_module.py'), 'utf8')

    it('reports functions, classes, complexity, imports and issues of real Python', async () => {
      const report = (await callSkill(registry, ctx(), 'code_analysis', [snippet], {}, ['code-analysis'])) as {
        valid: boolean
        functions: { name: string; complexity: number; rank: string; class: string | null }[]
        classes: { name: string; methods: string[] }[]
        imports: { module: string }[]
        issues: { line: number; kind: string }[]
        metrics: { max_complexity: number }
      }
      expect(report.valid).toBe(true)
      const fns = Object.fromEntries(report.functions.map((f) => [f.name, f]))
      // 1 + if + if + `and` + for + if
      expect(fns.classify).toMatchObject({ complexity: 6, rank: 'B', class: null })
      expect(fns.load).toMatchObject({ class: 'Cache' })
      expect(report.classes).toEqual([{ name: 'Cache', line: 17, bases: ['dict'], methods: ['__init__', 'load'] }])
      expect(report.imports.map((i) => i.module)).toEqual(['json', 'os', 'collections'])
      expect(report.issues.map((i) => `${i.line}:${i.kind}`)).toEqual([
        '2:unused-import',
        '3:unused-import',
        '18:mutable-default',
        '24:bare-except',
        '25:unused-variable',
      ])
      expect(report.metrics.max_complexity).toBe(6)
    })

    it('gives syntax errors with line numbers', async () => {
      const report = await callSkill(registry, ctx(), 'code-analysis', ['x = 1\nif x > 0\n    print(x)\n'])
      expect(report).toMatchObject({ valid: false, syntax_errors: [{ line: 2, message: "expected ':'" }] })
    })

    it('says which languages it supports', async () => {
      await expect(callSkill(registry, ctx(), 'code-analysis', ['fn main() {}', 'rust'])).rejects.toThrow(
        "code_analysis(): ValueError: language 'rust' is not supported (supported: python)",
      )
    })
  })

  describe('http-fetch', () => {
    it('returns readable text of an allowed page', async () => {
      const text = await callSkill(registry, ctx(), 'http_fetch', [`${web.url}/page`], {}, ['http-fetch'])
      expect(text).toBe(`RELEASE NOTES\n\nVersion 2 adds streaming [${web.url}/x].`)
    })

    it('follows redirects within the allow-list only', async () => {
      expect(await callSkill(registry, ctx(), 'http-fetch', [`${web.url}/redirect-in`])).toContain('RELEASE NOTES')
      await expect(callSkill(registry, ctx(), 'http-fetch', [`${web.url}/redirect-out`])).rejects.toThrow(
        `http_fetch(): host 'evil.example' is not on the allow-list (${web.host})`,
      )
    })

    it('refuses hosts not allowed, non-text bodies, and everything with an empty allow-list', async () => {
      await expect(callSkill(registry, ctx(), 'http-fetch', ['http://localhost:1/'])).rejects.toThrow(
        "host 'localhost:1' is not on the allow-list",
      )
      await expect(callSkill(registry, ctx(), 'http-fetch', [`${web.url}/binary`])).rejects.toThrow(
        'is image/png, not text',
      )
      const port = await closedPort()
      const down = await load({}, { 'http-fetch': { allowHosts: [`127.0.0.1:${port}`] } })
      try {
        await expect(callSkill(down, ctx(), 'http-fetch', [`http://127.0.0.1:${port}/`])).rejects.toThrow(
          `http_fetch(): cannot reach 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
        )
      } finally {
        await down.close()
      }
      const closed = await load()
      try {
        await expect(callSkill(closed, ctx(), 'http-fetch', [`${web.url}/page`])).rejects.toThrow(
          'the allow-list (settings.http-fetch.allowHosts) is empty',
        )
      } finally {
        await closed.close()
      }
    })

    it('cuts long text and says so', async () => {
      const text = await callSkill(registry, ctx(), 'http-fetch', [`${web.url}/long`, 100])
      expect(text).toBe(`${'word '.repeat(20)}\n[truncated: 400 more characters]`)
    })
  })

  describe('workspace files', () => {
    it('writes, reads and lists inside the workspace', async () => {
      expect(await callSkill(registry, ctx(), 'write_file', ['notes/a.txt', 'héllo'], {}, ['write-file'])).toEqual({
        path: 'notes/a.txt',
        bytes: 6,
      })
      await callSkill(registry, ctx(), 'write-file', ['notes/a.txt', '!'], { append: true })
      expect(await callSkill(registry, ctx(), 'read-file', ['notes/a.txt'])).toBe('héllo!')
      expect(await callSkill(registry, ctx(), 'list-files', [], { recursive: true })).toEqual([
        { path: 'notes', type: 'dir', size: 0 },
        { path: 'notes/a.txt', type: 'file', size: 7 },
      ])
    })

    it('refuses absolute paths, .. and symlinks that lead out', async () => {
      const outside = tempDir('outside')
      writeFileSync(join(outside.path, 'secret.txt'), 'secret')
      mkdirSync(join(workspace.path, 'links'), { recursive: true })
      symlinkSync(outside.path, join(workspace.path, 'links/out'))
      try {
        await expect(callSkill(registry, ctx(), 'read-file', ['/etc/passwd'])).rejects.toThrow(
          "read_file(): '/etc/passwd' is absolute",
        )
        await expect(callSkill(registry, ctx(), 'read-file', ['../x'])).rejects.toThrow("'../x' leaves the workspace")
        await expect(callSkill(registry, ctx(), 'read-file', ['links/out/secret.txt'])).rejects.toThrow(
          'leads out of the workspace through a symlink',
        )
        await expect(callSkill(registry, ctx(), 'write-file', ['links/out/new.txt', 'x'])).rejects.toThrow(
          'through a symlink',
        )
        await expect(callSkill(registry, ctx(), 'list-files', ['links/out'])).rejects.toThrow('through a symlink')
      } finally {
        outside.cleanup()
      }
    })
  })
})
