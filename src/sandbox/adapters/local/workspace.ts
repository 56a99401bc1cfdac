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

/** Per-session uids, so RLIMIT_NPROC and file permissions apply to one session only. */
export class UidRange {
  private readonly used = new Set<number>()

  constructor(
    private readonly base: number,
    private readonly count: number,
  ) {}

  allocate(): number {
    for (let uid = this.base; uid < this.base + this.count; uid++) {
      if (!this.used.has(uid)) {
        this.used.add(uid)
        return uid
      }
    }
    throw new Error('no free sandbox uid')
  }

  release(uid: number | undefined) {
    if (uid !== undefined) this.used.delete(uid)
  }
}
