import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeLlmServer, startFakeLlmServer } from '../fake-llm/server'
import { planAndCode } from './harness'

let server: FakeLlmServer
let workspace: string

beforeAll(async () => {
  server = await startFakeLlmServer()
  workspace = mkdtempSync(join(tmpdir(), 'agent-cli-'))
})
afterAll(async () => {
  await server.close()
  rmSync(workspace, { recursive: true, force: true })
})

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DEFAULT_LLM_PROVIDER: 'openai-compatible',
    LLM_BASE_URL: server.openaiBaseUrl,
    DEFAULT_LLM_MODEL: 'fake-model',
    LLM_API_KEY: 'test-key',
    LLM_MAX_RETRIES: '0',
    SANDBOX_PYTHON_PATH: '/usr/bin/python3',
    WORKSPACE_DIR: workspace,
  }
  return new Promise((resolve) => {
    execFile('node_modules/.bin/tsx', ['src/cli/main.ts', ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('motia-agent CLI', () => {
  it('runs a task in-process: progress on stderr, the answer on stdout, exit 0; --session carries history', async () => {
    server.enqueue(planAndCode('secret = 6 * 7\nprint("computed")\nfinal_answer(f"The number is {secret}")'))
    const first = await cli('run', 'Compute the number', '--session', 'cli-s1')
    expect(first.stderr).toMatch(/program \(3 lines, python-fence\)/)
    expect(first.stderr).toMatch(/final answer/)
    expect(first.stdout).toBe('The number is 42\n')
    expect(first.code).toBe(0)

    server.enqueue(planAndCode('final_answer("again")'))
    const second = await cli('run', 'Repeat it', '--session', 'cli-s1', '--json', '--quiet')
    expect(second.code).toBe(0)
    const record = JSON.parse(second.stdout)
    expect(record).toMatchObject({ status: 'completed', result: 'again', sessionId: 'cli-s1' })
    expect(server.requests.at(-1)?.messages[0].content).toMatch(/Answer: The number is 42/)
  })

  it('exits 1 and names the error when the task fails', async () => {
    server.enqueue({ status: 401, text: 'invalid key' })
    const run = await cli('run', 'anything', '--quiet')
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/failed: llm_http_error: .*401/)
  })
})
