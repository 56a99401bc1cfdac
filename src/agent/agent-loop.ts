import { errorMessage } from '../config/errors'
import type { LlmClient, LlmMessage } from '../llm/types'
import type { RunResult, SkillInvoker } from '../sandbox/types'
import { DELEGATE_SKILL } from './agents-config'
import { createDelegateHandler } from './delegation'
import { buildSystemPrompt, buildTaskMessage, generateProgram, type LlmTurnOptions } from './generator'
import { observeFailure, observeUnfinishedRun, renderAnswer } from './observations'
import { renderPrompt } from './prompts'
import { stopwatch } from './record'
import type { AgentOutcome, AgentRun, ExecutionScope } from './scope'
import { recordingInvoker } from './skill-calls'
import { truncateMiddle } from './truncate'
import type { ExecutionErrorInfo } from './types'

/**
 * The execute-observe-repair loop of one agent: ask for a program, run it in the sandbox, show the
 * model what it printed or how it failed, until `final_answer` or `maxSteps`.
 */
export async function runAgentLoop(scope: ExecutionScope, run: AgentRun): Promise<AgentOutcome> {
  const { agent } = run
  const subagents = agent.delegates.map((name) => ({ name, description: scope.agents.get(name)!.description }))
  let llm: LlmClient
  try {
    llm = scope.llm.get(agent.llm)
  } catch (err) {
    return { status: 'failed', answer: null, error: toErrorInfo(err, 'llm_misconfigured') }
  }
  const turn: LlmTurnOptions = {
    llm,
    system: buildSystemPrompt(agent, scope.skills, subagents),
    log: run.log,
    totals: scope.totals,
    signal: scope.signal,
    recordChars: scope.limits.recordChars,
    maxOutputTokens: scope.limits.maxOutputTokens,
    onDelta: scope.streaming
      ? (delta) =>
          scope.emit({
            type: 'llm_delta',
            executionId: scope.executionId,
            agent: agent.name,
            delta,
            delegation: run.delegation,
          })
      : undefined,
  }
  const invoke = buildInvoker(scope, run, llm)
  const skills = subagents.length ? [...agent.skills, DELEGATE_SKILL] : agent.skills
  const messages: LlmMessage[] = [{ role: 'user', content: buildTaskMessage(run.task, run.history) }]
  let lastError = 'none'

  const cancelled = (): AgentOutcome => ({
    status: 'cancelled',
    answer: null,
    error: { code: 'cancelled', message: 'The execution was cancelled' },
  })

  for (let step = 1; step <= agent.maxSteps; step++) {
    if (scope.signal.aborted) return cancelled()
    if (!scope.totals.takeStep()) {
      const message = `Execution stopped: all ${scope.limits.maxTotalSteps} agent steps of this execution are used (last error: ${lastError})`
      return { status: 'failed', answer: null, error: { code: 'step_budget_exceeded', message } }
    }

    let program: Awaited<ReturnType<typeof generateProgram>>
    try {
      program = await generateProgram(turn, messages, agent.planning === 'separate' && step === 1)
    } catch (err) {
      if (scope.signal.aborted) return cancelled()
      return { status: 'failed', answer: null, error: toErrorInfo(err, 'llm_error') }
    }
    if (step === 1 && program.plan) {
      run.log.add({ type: 'plan', startedAt: new Date().toISOString(), durationMs: 0, plan: program.plan })
    }
    if (program.code === null) {
      lastError = 'the reply contained no code'
      messages.push({ role: 'user', content: renderPrompt('no-code') })
      continue
    }
    run.log.add({
      type: 'code',
      startedAt: new Date().toISOString(),
      durationMs: 0,
      code: program.code,
      format: program.format,
    })

    const watch = stopwatch()
    let result: RunResult
    try {
      result = await run.sandbox.run(program.code, {
        skills,
        invokeSkill: invoke,
        timeoutMs: agent.timeoutMs,
        signal: scope.signal,
      })
    } catch (err) {
      if (scope.signal.aborted) return cancelled()
      const error = { code: 'sandbox_error', message: `Sandbox failed to run the program: ${errorMessage(err)}` }
      return { status: 'failed', answer: null, error }
    }
    scope.totals.sandboxMs += result.durationMs
    const recordChars = scope.limits.recordChars
    run.log.add({
      type: 'execution',
      startedAt: watch.startedAt,
      durationMs: watch.elapsed(),
      ok: result.ok,
      stdout: truncateMiddle(result.stdout, recordChars),
      stderr: truncateMiddle(result.stderr, recordChars),
      error: result.error,
      hasFinalAnswer: result.hasFinalAnswer,
      isolation: result.isolation ? [result.isolation.adapter, ...result.isolation.details].join(', ') : undefined,
    })
    if (scope.signal.aborted) return cancelled()

    if (!result.ok) {
      lastError = result.error ? `${result.error.type}: ${result.error.message}` : 'the program failed'
      messages.push({ role: 'user', content: observeFailure(result, scope.limits, agent.maxSteps - step) })
      continue
    }
    const printed = result.stdout.trim()
    if (result.hasFinalAnswer || (agent.outputIsAnswer && printed !== '')) {
      const answer = result.hasFinalAnswer ? renderAnswer(result.finalAnswer) : printed
      run.log.add({ type: 'final', startedAt: new Date().toISOString(), durationMs: 0, answer })
      return { status: 'completed', answer, error: null }
    }
    lastError = 'the program ended without final_answer'
    messages.push({ role: 'user', content: observeUnfinishedRun(result, scope.limits) })
  }

  const message = `Agent "${agent.name}" stopped after ${agent.maxSteps} steps without final_answer; last error: ${lastError}`
  return { status: 'failed', answer: null, error: { code: 'max_steps_exceeded', message } }
}

/** Skills go to the catalog's invoker; `delegate` starts a subagent. Every call is recorded as it completes. */
function buildInvoker(scope: ExecutionScope, run: AgentRun, llm: LlmClient): SkillInvoker {
  const context = {
    sessionId: scope.sessionId,
    executionId: scope.executionId,
    workspaceDir: scope.workspaceDir,
    signal: scope.signal,
    llm,
  }
  const skillInvoker = scope.skills.createInvoker(context, run.agent.skills)
  const delegate = run.agent.delegates.length ? createDelegateHandler(scope, run, runAgentLoop) : undefined
  const route: SkillInvoker = (call, signal) =>
    delegate && call.skill === DELEGATE_SKILL ? delegate(call, signal) : skillInvoker(call, signal)
  return recordingInvoker(route, (record) => {
    scope.totals.skillCalls.push(record)
    // A delegation is recorded as its own step, with the subagent's steps nested.
    if (record.skill !== DELEGATE_SKILL) {
      run.log.add({ type: 'skill_call', startedAt: record.startedAt, durationMs: record.durationMs, call: record })
    }
  })
}

function toErrorInfo(err: unknown, fallbackCode: string): ExecutionErrorInfo {
  const code = (err as { code?: unknown }).code
  return { code: typeof code === 'string' ? code : fallbackCode, message: errorMessage(err) }
}
