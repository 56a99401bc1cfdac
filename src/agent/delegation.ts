import { randomUUID } from 'node:crypto'
import { dirname, join } from 'node:path'
import { errorMessage } from '../config/errors'
import type { SkillCallRequest, SkillInvoker } from '../sandbox/types'
import { StepLog, stopwatch } from './record'
import type { AgentOutcome, AgentRun, ExecutionScope } from './scope'
import type { DelegationRef } from './types'

type AgentLoop = (scope: ExecutionScope, run: AgentRun) => Promise<AgentOutcome>

/**
 * The host side of `delegate(agent, task)`: runs the subagent's own loop with its own skills and
 * sandbox session, nests its steps under a `delegation` step, and hands its answer back as a string.
 * A failed subagent raises in the program, so the parent can repair or answer without it.
 */
export function createDelegateHandler(scope: ExecutionScope, parent: AgentRun, runLoop: AgentLoop): SkillInvoker {
  return async (call, callSignal) => {
    const { agentName, task } = parseDelegateCall(call)
    if (!parent.agent.delegates.includes(agentName)) {
      throw new Error(`delegate(): unknown agent "${agentName}"; available: ${parent.agent.delegates.join(', ')}`)
    }
    const depth = parent.depth + 1
    if (depth > scope.limits.maxDepth) {
      throw new Error(
        `delegate(): delegation depth limit (${scope.limits.maxDepth}) reached; do this sub-task yourself`,
      )
    }
    const child = scope.agents.get(agentName)!
    const ref: DelegationRef = { id: randomUUID(), agent: agentName, depth }
    const log = new StepLog(agentName, (step) =>
      scope.emit({ type: 'step', executionId: scope.executionId, step, delegation: ref }),
    )
    const watch = stopwatch()
    // The child stops when the execution is cancelled or when the parent's program is killed (timeout).
    const childScope = { ...scope, signal: AbortSignal.any([scope.signal, callSignal]) }
    const outcome = await runChild(
      childScope,
      { agent: child, task, history: '', log, depth, delegation: ref },
      runLoop,
    )
    parent.log.add({
      type: 'delegation',
      startedAt: watch.startedAt,
      durationMs: watch.elapsed(),
      subagent: agentName,
      task,
      status: outcome.status,
      result: outcome.answer ?? undefined,
      error: outcome.error?.message,
      steps: log.steps,
      delegationId: ref.id,
    })
    if (outcome.status === 'completed') return outcome.answer ?? ''
    throw new Error(`Subagent "${agentName}" ${outcome.status}: ${outcome.error?.message ?? 'no answer'}`)
  }
}

async function runChild(
  scope: ExecutionScope,
  run: Omit<AgentRun, 'sandbox'>,
  runLoop: AgentLoop,
): Promise<AgentOutcome> {
  let sandbox: AgentRun['sandbox']
  // Its own sandbox session and directory beside the session's: concurrent subagents never share
  // notebook state, and sandboxes that give each session its own uid keep their directories apart.
  // File skills run on the host with the session workspace, so subagents still share the files.
  const id = `${scope.sessionId}.${run.agent.name}.${run.delegation!.id.slice(0, 8)}`
  const workspaceDir = join(dirname(scope.workspaceDir), id)
  try {
    sandbox = await scope.sandboxes.get(run.agent.sandbox).openSession({ id, workspaceDir })
  } catch (err) {
    const error = { code: 'sandbox_error', message: `Could not open a sandbox: ${errorMessage(err)}` }
    return { status: 'failed', answer: null, error }
  }
  try {
    return await runLoop(scope, { ...run, sandbox })
  } finally {
    await sandbox.close().catch(() => undefined)
  }
}

function parseDelegateCall(call: SkillCallRequest): { agentName: string; task: string } {
  const agentName = call.args[0] ?? call.kwargs.agent
  const task = call.args[1] ?? call.kwargs.task
  if (typeof agentName !== 'string' || typeof task !== 'string' || task.trim() === '') {
    throw new TypeError('delegate(agent: str, task: str): both arguments must be non-empty strings')
  }
  return { agentName, task }
}
