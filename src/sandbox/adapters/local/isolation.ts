import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname } from 'node:path'
import { findOnPath } from '../../../config/redis'
import type { LocalSandboxOptions } from '../../config'

export type IsolationKind = 'bwrap' | 'unshare' | 'none'

/** How kernels are launched on this host, decided once by probing what the host allows. */
export interface IsolationPlan {
  kind: IsolationKind
  /** Programs can reach the network (false: a private, empty network namespace). */
  networkAccess: boolean
  /** Kernels drop to a per-session uid (only possible when the host runs as root). */
  dropsUid: boolean
  details: string[]
  /** Command and arguments that start `python kernel.py` with `writable` directories writable. */
  command(python: string, kernel: string, writable: string[]): { file: string; args: string[] }
}

const isRoot = () => process.getuid?.() === 0

/** Only what the interpreter needs: no host variables, so no API keys, reach the sandbox. */
export function scrubbedEnv(): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONIOENCODING: 'utf-8',
    // Each thread's malloc arena reserves address space that RLIMIT_AS would count.
    MALLOC_ARENA_MAX: '2',
  }
}

function parentsInside(dir: string, masks: string[]): string[] {
  const mask = masks.filter((m) => dir.startsWith(`${m}/`)).sort((a, b) => b.length - a.length)[0]
  if (!mask) return []
  const parents: string[] = []
  for (let p = dirname(dir); p.length > mask.length; p = dirname(p)) parents.unshift(p)
  return parents
}

function bwrapArgs(python: string, kernel: string, writable: string[], hide: string[]): string[] {
  const args = ['--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent']
  // A private /tmp the session uid can use; masks stay traversable so binds inside them are reachable.
  args.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--perms', '1777', '--tmpfs', '/tmp')
  for (const dir of hide) args.push('--perms', '0755', '--tmpfs', dir)
  args.push('--ro-bind', kernel, kernel)
  for (const dir of writable) {
    // bwrap creates missing mount points 0700; parents inside a mask must stay traversable.
    for (const parent of parentsInside(dir, ['/tmp', ...hide])) args.push('--perms', '0755', '--dir', parent)
    args.push('--bind', dir, dir)
  }
  if (isRoot()) args.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID')
  else args.push('--unshare-user')
  args.push('--chdir', '/', '--', python, '-I', '-B', kernel)
  return args
}

function probe(file: string, args: string[]): boolean {
  const run = spawnSync(file, args, { env: scrubbedEnv(), timeout: 10_000, stdio: 'ignore' })
  return run.status === 0
}

/** Directories masked inside bubblewrap: the project (its .env) and $HOME, unless they hold the interpreter. */
function pathsToHide(options: LocalSandboxOptions, python: string): string[] {
  const wanted = options.hidePaths ?? [process.cwd(), homedir()]
  return wanted.filter((dir) => dir !== '/' && existsSync(dir) && !python.startsWith(`${dir}/`))
}

export function planIsolation(options: LocalSandboxOptions, python: string, kernel: string): IsolationPlan {
  const base = ['env-scrubbed', 'rlimits:as,cpu,fsize,nproc', 'stdout/stderr capped']
  const dropsUid = isRoot()
  if (dropsUid) base.push('per-session uid')
  const hide = pathsToHide(options, python)
  const probeDir = dirname(kernel)
  const bwrap = findOnPath('bwrap', '/usr/bin:/bin:/usr/local/bin')
  if (bwrap && (options.isolation === 'auto' || options.isolation === 'bwrap')) {
    const probeArgs = bwrapArgs(python, kernel, [probeDir], hide).slice(0, -4)
    if (probe(bwrap, [...probeArgs, python, '-c', 'pass'])) {
      return {
        kind: 'bwrap',
        networkAccess: false,
        dropsUid,
        details: [
          'bwrap',
          'netns',
          'pidns',
          'read-only root',
          'workspace writable',
          `hidden: ${hide.join(',')}`,
          ...base,
        ],
        command: (py, k, writable) => ({ file: bwrap, args: bwrapArgs(py, k, writable, hide) }),
      }
    }
  }
  const unshare = findOnPath('unshare', '/usr/bin:/bin')
  if (unshare && (options.isolation === 'auto' || options.isolation === 'unshare')) {
    if (probe(unshare, ['-n', '--', python, '-c', 'pass'])) {
      return {
        kind: 'unshare',
        networkAccess: false,
        dropsUid,
        details: ['unshare', 'netns', 'filesystem: uid permissions only', ...base],
        command: (py, k) => ({ file: unshare, args: ['-n', '--', py, '-I', '-B', k] }),
      }
    }
  }
  return {
    kind: 'none',
    networkAccess: true,
    dropsUid,
    details: ['plain process', 'network reachable', 'filesystem: uid permissions only', ...base],
    command: (py, k) => ({ file: py, args: ['-I', '-B', k] }),
  }
}
