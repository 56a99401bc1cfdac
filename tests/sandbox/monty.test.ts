import { MontySandbox } from '../../src/sandbox/adapters/monty/adapter'
import { sandboxConfigSchema } from '../../src/sandbox/config'
import { runConformanceSuite } from './conformance'
import { tempWorkspaceRoot } from './helpers'

export function makeMontySandbox() {
  const config = sandboxConfigSchema.parse({ adapters: { monty: { type: 'monty' } } }).adapters.monty
  if (config.type !== 'monty') throw new Error('expected a monty adapter')
  return new MontySandbox(config.monty)
}

runConformanceSuite('monty', () => ({ adapter: makeMontySandbox(), workspaceRoot: tempWorkspaceRoot('monty') }), {
  fullPython: false,
  functionsPersist: true,
  // @pydantic/monty 0.0.18's JS API has no futures: calls run one at a time.
  concurrentSkillCalls: false,
  timeoutLosesState: false,
})
