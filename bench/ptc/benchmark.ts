import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentsConfigSchema } from '../../src/agent/agents-config'
import { AgentRuntime, InMemorySessionStore } from '../../src/agent/runtime'
import { createLlmClient } from '../../src/llm'
import { SandboxRegistry, sandboxConfigSchema } from '../../src/sandbox'
import { SkillRegistry } from '../../src/skills/registry'
import { type FakeLlmRequest, type FakeLlmServer, startFakeLlmServer } from '../../tests/fake-llm/server'
import { runToolCallingBaseline, toolResultsIn } from './baseline'
import type { BenchTask } from './tasks'

export interface ArmResult {
  answer: string | null
  correct: boolean
  /** LLM requests made for the task. */
  roundTrips: number
  /** UTF-8 bytes of system prompt + messages summed over every request: what the model had to read. */
  promptBytes: number
  /** promptBytes / 4, the usual estimate of tokens. */
  promptTokensEstimate: number
  /** Input tokens the (fake) server reported, summed. */
  reportedInputTokens: number
}

export interface TaskResult {
  id: string
  prompt: string
  ptc: ArmResult
  baseline: ArmResult
}

const requestBytes = (r: FakeLlmRequest) =>
  Buffer.byteLength(r.system) + r.messages.reduce((n, m) => n + Buffer.byteLength(m.content), 0)

function measure(server: FakeLlmServer, answer: string | null, expected: string, reported: number): ArmResult {
  const promptBytes = server.requests.reduce((n, r) => n + requestBytes(r), 0)
  return {
    answer,
    correct: answer === expected,
    roundTrips: server.requests.length,
    promptBytes,
    promptTokensEstimate: Math.round(promptBytes / 4),
    reportedInputTokens: reported,
  }
}

/**
 * Runs every task with PTC (AgentRuntime, local Python sandbox) and with the one-tool-per-turn
 * baseline, both against the fake LLM server playing a scripted model and the same real skills.
 */
export async function runBenchmark(tasks: BenchTask[]): Promise<TaskResult[]> {
  const server = await startFakeLlmServer()
  const workspace = mkdtempSync(join(tmpdir(), 'ptc-bench-'))
  const skills = await SkillRegistry.load({ rootDir: process.cwd(), builtinDir: join(import.meta.dirname, 'skills') })
  const sandboxes = new SandboxRegistry(
    sandboxConfigSchema.parse({
      default_adapter: 'local',
      adapters: { local: { type: 'local', local: { pythonPath: '/usr/bin/python3', workspace, poolSize: 1 } } },
    }),
  )
  const llm = createLlmClient({
    name: 'bench',
    type: 'openai-compatible',
    model: 'scripted-bench-model',
    baseUrl: server.openaiBaseUrl,
    apiKey: 'bench',
    maxRetries: 0,
  })
  const results: TaskResult[] = []
  try {
    for (const task of tasks) {
      const expected = task.expected()

      server.reset()
      server.setResponder(
        () => `Plan: call the tools in one program and combine their results.\n\n\`\`\`python\n${task.program}\n\`\`\``,
      )
      const runtime = new AgentRuntime({
        llm: { get: () => llm },
        skills,
        sandboxes,
        agents: agentsConfigSchema.parse({
          agents: { master: { description: 'benchmark agent', skills: task.skills, maxSteps: 3 } },
        }),
        sessions: new InMemorySessionStore(),
        workspaceRoot: workspace,
      })
      const record = await runtime.runTask({ task: task.prompt, sessionId: `ptc-${task.id}` })
      const ptc = measure(server, record.result, expected, record.usage.inputTokens)

      server.reset()
      server.setResponder((req) => {
        const move = task.baseline(toolResultsIn(req.messages))
        return JSON.stringify('call' in move ? move.call : { final_answer: move.answer })
      })
      const context = {
        sessionId: 'bench',
        executionId: task.id,
        workspaceDir: workspace,
        signal: new AbortController().signal,
      }
      const outcome = await runToolCallingBaseline(llm, skills, task.skills, task.prompt, context)
      const baseline = measure(server, outcome.answer, expected, outcome.inputTokens)

      results.push({ id: task.id, prompt: task.prompt, ptc, baseline })
    }
  } finally {
    await sandboxes.shutdown()
    await skills.close()
    await server.close()
    rmSync(workspace, { recursive: true, force: true })
  }
  return results
}
