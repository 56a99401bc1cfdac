import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalPythonSandbox } from '../../src/sandbox/adapters/local/adapter'
import { sandboxConfigSchema } from '../../src/sandbox/config'
import type { RunOptions, SkillInvoker } from '../../src/sandbox/types'

/** A stand-in for the skill registry: echo, fail, big, slow. */
export const testInvoker: SkillInvoker = async (call) => {
  switch (call.skill) {
    case 'echo':
      return { args: call.args, kwargs: call.kwargs }
    case 'fail':
      throw new Error(`fail was asked to fail: ${call.args[0] ?? ''}`)
    case 'big':
      return 'x'.repeat(Number(call.args[0] ?? 1_000_000))
    case 'slow':
      await new Promise((resolve) => setTimeout(resolve, Number(call.args[0] ?? 200)))
      return call.args[1] ?? 'done'
    default:
      throw new Error(`unknown skill ${call.skill}`)
  }
}

export const runOptions = (extra: Partial<RunOptions> = {}): RunOptions => ({
  skills: ['echo', 'fail', 'big', 'slow', 'web-search'],
  invokeSkill: async (call, signal) =>
    call.skill === 'web-search'
      ? [{ title: `about ${call.args[0]}`, url: 'http://x', snippet: '' }]
      : testInvoker(call, signal),
  ...extra,
})

export const tempWorkspaceRoot = (prefix: string) => mkdtempSync(join(tmpdir(), `motia-${prefix}-`))

export function makeLocalSandbox(overrides: Record<string, unknown> = {}) {
  const workspaceRoot = tempWorkspaceRoot('local')
  const config = sandboxConfigSchema.parse({
    adapters: { local: { type: 'local', local: { workspace: workspaceRoot, poolSize: 1, ...overrides } } },
  }).adapters.local
  if (config.type !== 'local') throw new Error('expected a local adapter')
  return { adapter: new LocalPythonSandbox(config.local), workspaceRoot }
}
