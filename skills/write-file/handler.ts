import { appendFile, mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { SkillHandlerContext } from '../../src/skills/types'
import { resolveInWorkspace, workspaceRelative } from '../../src/skills/workspace-files'

export default async function writeWorkspaceFile(
  args: { path: string; content: string; append: boolean },
  ctx: SkillHandlerContext,
): Promise<{ path: string; bytes: number }> {
  const file = resolveInWorkspace(ctx.workspaceDir, args.path)
  await mkdir(dirname(file), { recursive: true })
  // Re-check after mkdir: a folder created on the way cannot be a symlink, but one that existed could.
  resolveInWorkspace(ctx.workspaceDir, args.path)
  await (args.append ? appendFile : writeFile)(file, args.content, 'utf8')
  return { path: workspaceRelative(ctx.workspaceDir, file), bytes: Buffer.byteLength(args.content) }
}
