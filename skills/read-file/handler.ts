import { readFile, stat } from 'node:fs/promises'
import type { SkillHandlerContext } from '../../src/skills/types'
import { resolveInWorkspace } from '../../src/skills/workspace-files'

const MAX_BYTES = 1024 * 1024

export default async function readWorkspaceFile(args: { path: string }, ctx: SkillHandlerContext): Promise<string> {
  const file = resolveInWorkspace(ctx.workspaceDir, args.path)
  const info = await stat(file).catch(() => undefined)
  if (!info) throw new Error(`'${args.path}' does not exist`)
  if (!info.isFile()) throw new Error(`'${args.path}' is not a file`)
  if (info.size > MAX_BYTES) throw new Error(`'${args.path}' is ${info.size} bytes; the limit is ${MAX_BYTES}`)
  return readFile(file, 'utf8')
}
