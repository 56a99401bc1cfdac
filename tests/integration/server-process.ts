import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface ServerProcess {
  url: string
  port: number
  child: ChildProcess
  output(): string
  /** SIGKILL: the instance dies mid-whatever, as a crashed machine would. */
  kill(): Promise<void>
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>
}

const MOTIA_CLI = resolve('node_modules/motia/dist/cli.mjs')

export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no free port')
  return address.port
}

/** Starts `motia start` (the production server) from the project root and waits for /ready. */
export async function startServer(env: Record<string, string>, readyTimeoutMs = 90_000): Promise<ServerProcess> {
  const port = await freePort()
  // The motia CLI itself, not `npx motia`: signals must reach the server, not a wrapper that forwards them again.
  const child = spawn(process.execPath, [MOTIA_CLI, 'start', '-p', String(port), '-v'], {
    cwd: process.cwd(),
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout?.on('data', (c) => {
    output += c.toString()
  })
  child.stderr?.on('data', (c) => {
    output += c.toString()
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + readyTimeoutMs
  while (true) {
    if (child.exitCode !== null) {
      throw new Error(`server exited with ${child.exitCode} (signal ${child.signalCode}):\n${output}`)
    }
    try {
      const res = await fetch(`${url}/ready`)
      if (res.status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      killGroup(child, 'SIGKILL')
      throw new Error(`server not ready within ${readyTimeoutMs} ms:\n${output}`)
    }
    await sleep(200)
  }
  const exited = () =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit').then(() => undefined)
  return {
    url,
    port,
    child,
    output: () => output,
    async kill() {
      killGroup(child, 'SIGKILL')
      await exited()
    },
    async stop() {
      child.kill('SIGTERM')
      await Promise.race([exited(), sleep(20_000).then(() => killGroup(child, 'SIGKILL'))])
    },
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal)
  } catch {}
}
