#!/usr/bin/env tsx
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { loadEnv } from '../config/env'
import { AppError, errorMessage } from '../config/errors'
import { createAgentRuntime } from '../runtime/bootstrap'
import { FileSessionStore } from '../runtime/file-session-store'
import { createProgressPrinter } from './progress'

const USAGE = `Usage: motia-agent <command> [options]

Commands:
  run "<task>"   Run one task in-process; live progress on stderr, the answer on stdout
  agents         List the configured agents and their skills

Options for run:
  --agent <name>      Agent from config/agents.yaml (default: its defaultAgent)
  --session <id>      Session id: later runs with the same id see this run's task and answer
  --skills <a,b>      Narrow the agent's skills for this task
  --sandbox <name>    Sandbox adapter from config/sandbox.config.yaml
  --json              Print the whole execution record as JSON instead of the answer
  --quiet             No progress on stderr
`

const options = {
  agent: { type: 'string' },
  session: { type: 'string' },
  skills: { type: 'string' },
  sandbox: { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true })
  const [command, ...rest] = positionals
  if (values.help || !command) {
    process.stdout.write(USAGE)
    return command || values.help ? 0 : 1
  }
  if (command !== 'run' && command !== 'agents') throw new AppError('usage', `Unknown command "${command}"\n\n${USAGE}`)
  const task = rest.join(' ').trim()
  if (command === 'run' && !task) throw new AppError('usage', `run needs a task, e.g. motia-agent run "What is 2+2?"`)

  // The CLI is an entry point: the one place besides the server that reads the process environment.
  if (existsSync('.env')) process.loadEnvFile('.env')
  const env = loadEnv(process.env)
  const sessions = new FileSessionStore(`${env.WORKSPACE_DIR}/.sessions`)
  const app = await createAgentRuntime(env, { sessions })
  try {
    if (command === 'agents') {
      for (const a of app.runtime.describeAgents()) {
        const delegates = a.delegates.length ? `; delegates to ${a.delegates.join(', ')}` : ''
        process.stdout.write(`${a.name}${a.default ? ' (default)' : ''}: ${a.description}\n`)
        process.stdout.write(`  skills: ${a.skills.join(', ') || 'none'}${delegates}\n`)
      }
      return 0
    }
    const controller = new AbortController()
    let interrupts = 0
    const onSigint = () => {
      interrupts++
      if (interrupts > 1) process.exit(130)
      process.stderr.write('\ncancelling… (Ctrl-C again to quit now)\n')
      controller.abort()
    }
    process.on('SIGINT', onSigint)
    const record = await app.runtime.runTask({
      task,
      agent: values.agent,
      sessionId: values.session,
      // A one-off run (no --session) leaves no history behind.
      appendToSession: values.session !== undefined,
      sandbox: values.sandbox,
      availableSkills: values.skills
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      signal: controller.signal,
      onEvent: values.quiet ? undefined : createProgressPrinter((t) => process.stderr.write(t), process.stderr.isTTY),
    })
    process.off('SIGINT', onSigint)
    if (values.json) process.stdout.write(`${JSON.stringify(record, null, 2)}\n`)
    else if (record.status === 'completed') process.stdout.write(`${record.result ?? ''}\n`)
    if (record.status !== 'completed') {
      process.stderr.write(`${record.status}: ${record.error?.code}: ${record.error?.message}\n`)
    }
    if (!values.quiet) {
      const u = record.usage
      const session = values.session ? `session ${record.sessionId} · ` : ''
      process.stderr.write(
        `${session}${u.llmCalls} LLM calls · ${u.inputTokens} in / ${u.outputTokens} out tokens · ${record.timings.totalMs} ms\n`,
      )
    }
    return record.status === 'completed' ? 0 : 1
  } finally {
    await app.close()
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    const prefix = err instanceof AppError ? '' : 'error: '
    process.stderr.write(`${prefix}${errorMessage(err)}\n`)
    process.exit(1)
  },
)
