import { existsSync, mkdirSync, realpathSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { AppError } from '../config/errors'

const outside = (message: string) => new AppError('path_outside_workspace', message)

const isInside = (root: string, target: string) => {
  const rel = relative(root, target)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

/** Nearest existing ancestor (the path itself when it exists), with symlinks resolved. */
function realExisting(path: string): string {
  let current = path
  while (!existsSync(current)) {
    const parent = dirname(current)
    if (parent === current) break
    current = parent
  }
  const real = realpathSync(current)
  return resolve(real, relative(current, path))
}

/**
 * Resolves a path the program gave against the session workspace. Absolute paths, `..` that
 * climbs out, and symlinks that lead out are refused.
 */
export function resolveInWorkspace(workspaceDir: string, path: string): string {
  if (isAbsolute(path)) throw outside(`'${path}' is absolute; use a path relative to the workspace`)
  mkdirSync(workspaceDir, { recursive: true })
  const root = realpathSync(workspaceDir)
  const target = resolve(root, path)
  if (!isInside(root, target)) throw outside(`'${path}' leaves the workspace`)
  if (!isInside(root, realExisting(target))) throw outside(`'${path}' leads out of the workspace through a symlink`)
  return target
}

/** Path relative to the workspace, with `/` separators, for results the program reads. */
export const workspaceRelative = (workspaceDir: string, path: string) =>
  relative(realpathSync(workspaceDir), path).split(sep).join('/') || '.'
