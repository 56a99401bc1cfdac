import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSandboxAdapter, sandboxConfigSchema } from '../../src/sandbox'
import type { SandboxAdapter } from '../../src/sandbox/types'
import type { McpConfig } from '../../src/skills/config'
import { mcpConfigSchema } from '../../src/skills/config'
import { SkillRegistry } from '../../src/skills/registry'
import { createNotesServer } from '../fixtures/mcp/notes-server'
import { callSkill, ROOT, skillContext, tempDir } from './helpers'

/** Serves the notes MCP server over streamable HTTP (stateless: one server per request) on 127.0.0.1. */
async function startHttpMcp(): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const mcp = createNotesServer()
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => {
      transport.close()
      mcp.close()
    })
    await mcp.connect(transport)
    await transport.handleRequest(req, res)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, server }
}

describe('MCP servers as skills', () => {
  const empty = tempDir('mcp-skills')
  const workspace = tempDir('mcp-ws')
  let http: { url: string; server: Server }
  let registry: SkillRegistry
  let sandbox: SandboxAdapter

  beforeAll(async () => {
    http = await startHttpMcp()
    const mcpConfig: McpConfig = mcpConfigSchema.parse({
      mcpServers: {
        notes: {
          command: process.execPath,
          args: ['--import', 'tsx', join(ROOT, 'tests/fixtures/mcp/notes-server.ts')],
        },
        remote: { type: 'http', url: http.url },
        ghost: { command: join(empty.path, 'no-such-binary'), startupTimeoutMs: 5000 },
        off: { command: 'never-started', disabled: true },
      },
    })
    registry = await SkillRegistry.load({
      rootDir: ROOT,
      builtinDir: empty.path,
      mcpConfig,
      mcpConfigFile: 'config/mcp.json',
    })
    const config = sandboxConfigSchema.parse({
      adapters: { local: { type: 'local', local: { workspace: workspace.path, poolSize: 0 } } },
    })
    sandbox = createSandboxAdapter(config.adapters.local)
  })
  afterAll(async () => {
    await sandbox?.shutdown()
    await registry?.close()
    await new Promise((done) => http.server.close(done))
    empty.cleanup()
    workspace.cleanup()
  })

  it('turns every tool of a stdio and an HTTP server into <server>__<tool> skills', () => {
    expect(registry.list().map((s) => s.name)).toEqual([
      'notes__add_note',
      'notes__fail',
      'notes__word_count',
      'remote__add_note',
      'remote__fail',
      'remote__word_count',
    ])
    expect(registry.get('notes__word_count')).toMatchObject({
      kind: 'mcp',
      description: 'Count words in a text.',
      signature: 'notes__word_count(text: str, min_length: int = 1) -> dict',
    })
    expect(registry.get('remote__add_note')?.signature).toBe('remote__add_note(title: str, body: str) -> Any')
  })

  it('reports a server that does not start, naming the config file', () => {
    expect(registry.loadErrors).toEqual([
      {
        skill: 'ghost',
        file: 'config/mcp.json',
        problem: expect.stringMatching(/^MCP server 'ghost' did not start: .*ENOENT/),
      },
    ])
  })

  it('calls tools on both transports with validated arguments', async () => {
    const ctx = skillContext(workspace.path)
    expect(await callSkill(registry, ctx, 'notes__add_note', ['todo', 'buy milk'])).toBe("stored 'todo' (1 notes)")
    expect(await callSkill(registry, ctx, 'remote__word_count', ['a bb ccc dddd'], { min_length: 2 })).toEqual({
      words: 3,
      longest: 'dddd',
    })
    await expect(callSkill(registry, ctx, 'notes__add_note', ['todo'])).rejects.toThrow(
      "notes__add_note() missing required argument: 'body'",
    )
    await expect(callSkill(registry, ctx, 'notes__fail', ['no reason'])).rejects.toThrow(
      'notes__fail(): refused: no reason',
    )
  })

  it('serves a tool to a sandboxed program through the bridge', async () => {
    const session = await sandbox.openSession({ id: 'mcp-bridge', workspaceDir: join(workspace.path, 'mcp-bridge') })
    const allowed = ['notes__word_count', 'notes__fail']
    const invokeSkill = registry.createInvoker(skillContext(session.workspaceDir), allowed)
    try {
      const code = [
        'counted = notes__word_count("the quick brown fox", min_length=4)',
        'try:',
        '    notes__word_count(text=42)',
        'except Exception as exc:',
        '    bad_call = str(exc)',
        'final_answer({"counted": counted, "bad_call": bad_call})',
      ].join('\n')
      const result = await session.run(code, { skills: allowed, invokeSkill })
      expect(result.error).toBeUndefined()
      expect(result.finalAnswer).toEqual({
        counted: { words: 2, longest: 'quick' },
        bad_call: expect.stringContaining("notes__word_count(): argument 'text' must be str, got int"),
      })
      expect(result.skillCalls.map((c) => [c.skill, c.ok])).toEqual([
        ['notes__word_count', true],
        ['notes__word_count', false],
      ])
    } finally {
      await session.close()
    }
  })
})
