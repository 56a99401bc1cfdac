import { lstat, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { SkillHandlerContext } from '../../src/skills/types'
import { resolveInWorkspace, workspaceRelative } from '../../src/skills/workspace-files'

const MAX_ENTRIES = 1000

interface Entry {
  path: string
  type: 'file' | 'dir'
  size: number
}

export default async function listWorkspaceFiles(
  args: { path: string; recursive: boolean },
  ctx: SkillHandlerContext,
): Promise<Entry[]> {
  const root = resolveInWorkspace(ctx.workspaceDir, args.path)
  const info = await stat(root).catch(() => undefined)
  if (!info?.isDirectory()) throw new Error(`'${args.path}' is not a folder in the workspace`)
  const entries: Entry[] = []
  const walk = async (dir: string) => {
    for (const dirent of await readdir(dir, { withFileTypes: true })) {
      if (entries.length >= MAX_ENTRIES) return
      const full = join(dir, dirent.name)
      // lstat: a symlink is listed, never followed, so listing cannot reveal anything outside the workspace.
      const isDir = dirent.isDirectory()
      const size = isDir ? 0 : ((await lstat(full).catch(() => undefined))?.size ?? 0)
      entries.push({ path: workspaceRelative(ctx.workspaceDir, full), type: isDir ? 'dir' : 'file', size })
      if (isDir && args.recursive) await walk(full)
    }
  }
  await walk(root)
  return entries.sort((a, b) => a.path.localeCompare(b.path))
}
