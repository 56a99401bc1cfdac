import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AgentsConfig } from '../../src/agent/agents-config'
import { agentsConfigSchema } from '../../src/agent/agents-config'
import { type AgentLimits, AgentRuntime, InMemorySessionStore } from '../../src/agent/runtime'
import { createLlmClient } from '../../src/llm'
import type { LlmClient } from '../../src/llm/types'
import { SandboxRegistry, sandboxConfigSchema } from '../../src/sandbox'
import { SkillRegistry } from '../../src/skills/registry'
import { type FakeLlmServer, startFakeLlmServer } from '../fake-llm/server'

export const FIXTURE_SKILLS = join(import.meta.dirname, 'fixtures/skills')

/** The real stack (AI SDK client → fake server, local Python sandbox, skill registry) around one runtime. */
export interface Harness {
  server: FakeLlmServer
  skills: SkillRegistry
  sandboxes: SandboxRegistry
  workspaceRoot: string
  /** A runtime over the shared layers; `api` picks the wire format the AI SDK speaks. */
  runtime(agents: unknown, opts?: { limits?: Partial<AgentLimits>; api?: 'openai' | 'anthropic' }): AgentRuntime
  close(): Promise<void>
}

export async function startHarness(): Promise<Harness> {
  const server = await startFakeLlmServer()
  const workspaceRoot = mkdtempSync(join(tmpdir(), 'agent-test-'))
  // Fixture skills plus the built-in file skills (host-side, shared by every agent of a session).
  const skills = await SkillRegistry.load({
    rootDir: process.cwd(),
    builtinDir: FIXTURE_SKILLS,
    skillsConfig: {
      extraDirs: ['skills'],
      disabled: ['code-analysis', 'http-fetch', 'summarize', 'web-search'],
      settings: {},
    },
  })
  const sandboxes = new SandboxRegistry(
    sandboxConfigSchema.parse({
      default_adapter: 'local',
      adapters: {
        local: { type: 'local', local: { pythonPath: '/usr/bin/python3', workspace: workspaceRoot, poolSize: 1 } },
        monty: { type: 'monty', monty: {} },
      },
    }),
  )
  const clients = new Map<string, LlmClient>()
  const client = (api: 'openai' | 'anthropic'): LlmClient => {
    let c = clients.get(api)
    if (!c) {
      c =
        api === 'openai'
          ? createLlmClient({
              name: 'default',
              type: 'openai-compatible',
              model: 'fake-model',
              baseUrl: server.openaiBaseUrl,
              apiKey: 'k',
              maxRetries: 0,
            })
          : createLlmClient({
              name: 'default',
              type: 'anthropic',
              model: 'fake-claude',
              baseUrl: server.anthropicBaseUrl,
              apiKey: 'k',
              maxRetries: 0,
            })
      clients.set(api, c)
    }
    return c
  }
  return {
    server,
    skills,
    sandboxes,
    workspaceRoot,
    runtime: (agents, opts = {}) => {
      const llm = client(opts.api ?? 'openai')
      return new AgentRuntime({
        llm: { get: () => llm },
        skills,
        sandboxes,
        agents: agentsConfigSchema.parse(agents) as AgentsConfig,
        sessions: new InMemorySessionStore(),
        workspaceRoot,
        limits: opts.limits,
      })
    },
    async close() {
      await sandboxes.shutdown()
      await skills.close()
      await server.close()
      rmSync(workspaceRoot, { recursive: true, force: true })
    },
  }
}

/** A reply in the default style: a short plan, then one fenced program. */
export const planAndCode = (code: string, plan = 'Plan: use the tools, then answer.') =>
  `${plan}\n\n\`\`\`python\n${code}\n\`\`\``

/** Everything the model was sent, as one string: for "never entered the prompt" checks. */
export const promptText = (server: FakeLlmServer) =>
  server.requests.map((r) => [r.system, ...r.messages.map((m) => m.content)].join('\n')).join('\n')
