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

/**
 * A free port below 43858: Motia's Workbench opens its HMR socket on 21678 + port, and a port past
 * 65535 makes `motia start` exit silently with code 1.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 23_000)
    if ((await isFree(port)) && (await isFree(port + 21_678))) return port
  }
  throw new Error('no free port found')
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer()
  server.listen(port, '0.0.0.0')
  const ok = await Promise.race([once(server, 'listening').then(() => true), once(server, 'error').then(() => false)])
  if (ok) {
    server.close()
    await once(server, 'close')
  }
  return ok
}

/** Starts `motia start` (the production server) from the project root and waits for /ready. */
export async function startServer(env: Record<string, string>, readyTimeoutMs = 90_000): Promise<ServerProcess> {
  const port = await freePort()
  // The motia CLI itself, not `npx motia`: signals must reach the server, not a wrapper that forwards them again.
  const child = spawn(process.execPath, [MOTIA_CLI, 'start', '-p', String(port), '-v'], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      // No Workbench UI: its bundler cache is per project folder and per port, and instances starting at
      // the same moment from one folder race on it (Motia then exits with code 1 and no message).
      MOTIA_DOCKER_DISABLE_WORKBENCH: '1',
      ...env,
      PORT: String(port),
    },
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
