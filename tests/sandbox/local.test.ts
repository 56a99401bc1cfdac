import { LocalPythonSandbox } from '../../src/sandbox/adapters/local/adapter'
import { sandboxConfigSchema } from '../../src/sandbox/config'
import { runConformanceSuite } from './conformance'
import { tempWorkspaceRoot } from './helpers'

export function makeLocalSandbox(overrides: Record<string, unknown> = {}) {
  const workspaceRoot = tempWorkspaceRoot('local')
  const config = sandboxConfigSchema.parse({
    adapters: { local: { type: 'local', local: { workspace: workspaceRoot, poolSize: 1, ...overrides } } },
  }).adapters.local
  if (config.type !== 'local') throw new Error('expected a local adapter')
  return { adapter: new LocalPythonSandbox(config.local), workspaceRoot }
}

runConformanceSuite('local', () => makeLocalSandbox({ maxMemoryBytes: 512 * 1024 * 1024 }), {
  fullPython: true,
  functionsPersist: true,
  concurrentSkillCalls: true,
  timeoutLosesState: true,
})
