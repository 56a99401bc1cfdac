import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalPythonSandbox } from '../../src/sandbox/adapters/local/adapter'
import type { SandboxSession } from '../../src/sandbox/types'
import { makeLocalSandbox, runOptions } from './helpers'

const SECRET = 'sk-test-host-secret-4242'

/** Live (not zombie) processes on this host owned by `uid`; sandbox uids are used by nothing else. */
function liveProcessesOf(uid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0]
        return statSync(`/proc/${pid}`).uid === uid && state !== 'Z' && state !== 'X'
      } catch {
        return false
      }
    })
    .map(Number)
}

describe('local sandbox security', () => {
  let sandbox: LocalPythonSandbox
  let workspaceRoot: string
  let session: SandboxSession
  let server: Server
  let port = 0
  let connections = 0

  beforeAll(async () => {
    process.env.MOTIA_SANDBOX_TEST_SECRET = SECRET
    ;({ adapter: sandbox, workspaceRoot } = makeLocalSandbox({ maxProcesses: 32 }))
    session = await sandbox.openSession({ id: 'victim', workspaceDir: join(workspaceRoot, 'victim') })
    server = createServer((socket) => {
      connections++
      socket.end('hello')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })

  afterAll(async () => {
    delete process.env.MOTIA_SANDBOX_TEST_SECRET
    server.close()
    await sandbox.shutdown()
  })

  const healthy = async () => {
    const r = await session.run('final_answer(6 * 7)', runOptions())
    expect(r.finalAnswer).toBe(42)
  }

  it('reports the isolation it achieved', () => {
    const report = sandbox.isolation()
    expect(report.adapter).toBe('local')
    expect(report.details).toContain('env-scrubbed')
    if (report.details.includes('bwrap')) expect(report.network).toBe(false)
  })

  it('does not hand host environment variables (API keys) to the program', async () => {
    const r = await session.run(
      'import os\nleaks = [k for k, v in os.environ.items() if "sk-test" in v]\n' +
        'for pid in os.listdir("/proc"):\n' +
        '    try:\n' +
        '        if b"sk-test-host" in open(f"/proc/{pid}/environ", "rb").read():\n' +
        '            leaks.append(pid)\n' +
        '    except Exception:\n' +
        '        pass\n' +
        'final_answer({"leaks": leaks, "keys": sorted(os.environ)})',
      runOptions(),
    )
    expect(r.error).toBeUndefined()
    const answer = r.finalAnswer as { leaks: string[]; keys: string[] }
    expect(answer.leaks).toEqual([])
    expect(answer.keys).not.toContain('MOTIA_SANDBOX_TEST_SECRET')
    expect(answer.keys).not.toContain('ANTHROPIC_API_KEY')
  })

  it('cannot open sockets to the host when the network is isolated', async () => {
    const r = await session.run(
      `import socket\ntry:\n    s = socket.create_connection(("127.0.0.1", ${port}), timeout=2)\n    final_answer("connected: " + s.recv(5).decode())\nexcept OSError as e:\n    final_answer("blocked: " + type(e).__name__)`,
      runOptions(),
    )
    if (sandbox.isolation().network) {
      expect(r.finalAnswer).toBe('connected: hello')
    } else {
      expect(r.finalAnswer).toMatch(/^blocked/)
      expect(connections).toBe(0)
    }
  })

  it('contains an os.fork bomb and leaves no processes behind', async () => {
    const r = await session.run('import os\nwhile True:\n    os.fork()', runOptions({ timeoutMs: 5000 }))
    expect(r.ok).toBe(false)
    await healthy()
    const uid = Number(r.isolation.details.find((d) => d.startsWith('uid '))?.slice(4))
    if (uid) expect(liveProcessesOf(uid).length).toBeLessThanOrEqual(1)
  })

  it('cannot write outside its workspace', async () => {
    const outside = join(process.cwd(), 'sandbox-escape.txt')
    const neighbour = await sandbox.openSession({ id: 'neighbour', workspaceDir: join(workspaceRoot, 'neighbour') })
    await neighbour.run('open("mine.txt", "w").write("private")', runOptions())
    const r = await session.run(
      'import os\nresults = {}\n' +
        `for path in [${JSON.stringify(outside)}, "/etc/sandbox-escape", ${JSON.stringify(join(workspaceRoot, 'neighbour', 'mine.txt'))}]:\n` +
        '    try:\n' +
        '        open(path, "w").write("pwned")\n' +
        '        results[path] = "written"\n' +
        '    except OSError as e:\n' +
        '        results[path] = type(e).__name__\n' +
        'open("inside.txt", "w").write("ok")\n' +
        'final_answer(results)',
      runOptions(),
    )
    expect(r.error).toBeUndefined()
    expect(existsSync(outside)).toBe(false)
    expect(existsSync('/etc/sandbox-escape')).toBe(false)
    expect(readFileSync(join(workspaceRoot, 'neighbour', 'mine.txt'), 'utf8')).toBe('private')
    expect(readFileSync(join(session.workspaceDir, 'inside.txt'), 'utf8')).toBe('ok')
    await neighbour.close()
  })

  it('cannot kill its parent or the host', async () => {
    const r = await session.run(
      `import os, signal\nout = []\nfor pid in [os.getppid(), ${process.pid}, 1]:\n    try:\n        os.kill(pid, signal.SIGKILL)\n        out.append("killed")\n    except OSError as e:\n        out.append(type(e).__name__)\nfinal_answer(out)`,
      runOptions(),
    )
    expect(process.kill(process.pid, 0)).toBe(true)
    expect(r.ok).toBe(true)
    expect(r.finalAnswer).not.toContain('killed')
    await healthy()
  })

  it('survives the program killing its own interpreter', async () => {
    const r = await session.run('import os\nos._exit(3)', runOptions())
    expect(r.ok).toBe(false)
    expect(r.error?.type).toBe('SandboxCrash')
    await healthy()
  })

  it('caps what a single file write can grow to', async () => {
    const r = await session.run(
      'try:\n    open("big.bin", "wb").write(b"x" * (80 * 1024 * 1024))\n    final_answer("written")\nexcept OSError as e:\n    final_answer(type(e).__name__)',
      runOptions(),
    )
    expect(r.finalAnswer).toBe('OSError')
    await healthy()
  })
})
