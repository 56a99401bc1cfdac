import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'

export interface TestRedis {
  url: string
  port: number
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>
  /** Stops and starts a fresh, empty server on the same port (simulates a Redis restart). */
  restart(): Promise<void>
}

const REDIS_BINARY = '/usr/bin/redis-server'
const READY_LINE = 'Ready to accept connections'
const START_TIMEOUT_MS = 10_000

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('could not obtain a free port')
  return address.port
}

function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    REDIS_BINARY,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redis-server on port ${port} did not start in time:\n${output}`))
    }, START_TIMEOUT_MS)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes(READY_LINE)) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        // Keep draining so a full pipe never blocks the server.
        child.stdout?.resume()
        resolve(child)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server on port ${port} exited with ${code}:\n${output}`))
    })
  })
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

/** Starts a throw-away redis-server on a free 127.0.0.1 port, without persistence. */
export async function startRedis(): Promise<TestRedis> {
  let port = 0
  let child: ChildProcess | undefined
  // Another process may grab the probed port before redis binds it; try a few ports.
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort()
    try {
      child = await launch(port)
    } catch (error) {
      if (attempt >= 4) throw error
    }
  }
  let current: ChildProcess = child
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => terminate(current),
    async restart() {
      await terminate(current)
      current = await launch(port)
    },
  }
}
