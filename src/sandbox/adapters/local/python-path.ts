import { execFileSync } from 'node:child_process'
import { realpathSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { AppError, errorMessage } from '../../../config/errors'
import { findOnPath } from '../../../config/redis'

const resolved = new Map<string, string>()

function isPython3(binary: string): boolean {
  try {
    return execFileSync(binary, ['-c', 'import sys; print(sys.version_info[0])'], { encoding: 'utf8' }).trim() === '3'
  } catch {
    return false
  }
}

/**
 * Resolves the configured interpreter once to a real binary: `/usr/bin/python3` when `python3`
 * was asked for and it exists, else the interpreter's own `sys.executable` (which sees through
 * pyenv shims: spawning through a shim costs ~90 ms instead of ~9 ms).
 */
export function resolvePythonPath(configured: string): string {
  const cached = resolved.get(configured)
  if (cached) return cached
  let binary: string
  if (configured === 'python3' && isPython3('/usr/bin/python3')) {
    binary = '/usr/bin/python3'
  } else {
    const candidate = isAbsolute(configured) ? configured : findOnPath(configured)
    if (!candidate) throw new AppError('sandbox_python_missing', `Python interpreter "${configured}" not found on PATH`)
    try {
      binary = execFileSync(candidate, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim()
    } catch (err) {
      throw new AppError(
        'sandbox_python_missing',
        `Python interpreter "${candidate}" does not run: ${errorMessage(err)}`,
      )
    }
  }
  const real = realpathSync(binary)
  resolved.set(configured, real)
  return real
}
