import { readdirSync, statSync } from 'node:fs'
import { chmod, lchown, mkdir, readdir } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'

/** Creates the session's workspace and hands it to the session's uid (mode 0700: other sessions stay out). */
export async function prepareWorkspace(dir: string, uid?: number): Promise<string> {
  const absolute = resolve(dir)
  await mkdir(absolute, { recursive: true })
  if (uid === undefined) return absolute
  const entries = await readdir(absolute, { recursive: true })
  await Promise.all([absolute, ...entries.map((entry) => join(absolute, entry))].map((path) => lchown(path, uid, uid)))
  await chmod(absolute, 0o700)
  return absolute
}

export const isInside = (dir: string, root: string) => {
  const rel = relative(root, dir)
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith('/')
}

/** Uids that own a process on this host right now. */
function uidsInUse(): Set<number> {
  const uids = new Set<number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      uids.add(statSync(`/proc/${entry}`).uid)
    } catch {}
  }
  return uids
}

/**
 * Per-session uids, so RLIMIT_NPROC, file permissions and the kernel's kill(-1) clean-up reach one
 * session only. Each adapter starts at a random point of a wide range and skips uids that own a
 * process, so several adapters or servers on one host do not share a uid.
 */
export class UidRange {
  private readonly used = new Set<number>()
  private next: number

  constructor(
    private readonly base: number,
    private readonly span = 1 << 20,
  ) {
    this.next = Math.floor(Math.random() * span)
  }

  allocate(): number {
    const busy = uidsInUse()
    for (let i = 0; i < this.span; i++) {
      const uid = this.base + ((this.next + i) % this.span)
      if (this.used.has(uid) || busy.has(uid)) continue
      this.used.add(uid)
      this.next = (this.next + i + 1) % this.span
      return uid
    }
    throw new Error('no free sandbox uid')
  }

  release(uid: number | undefined) {
    if (uid !== undefined) this.used.delete(uid)
  }
}
