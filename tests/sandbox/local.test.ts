import { runConformanceSuite } from './conformance'
import { makeLocalSandbox } from './helpers'

runConformanceSuite('local', () => makeLocalSandbox({ maxMemoryBytes: 512 * 1024 * 1024 }), {
  fullPython: true,
  functionsPersist: true,
  concurrentSkillCalls: true,
  timeoutLosesState: true,
})
