import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { SkillCallRequest } from '../../src/sandbox/types'
import type { SkillRegistry } from '../../src/skills/registry'
import type { SkillContext } from '../../src/skills/types'

export const ROOT = resolve(import.meta.dirname, '../..')

export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/** Writes files (path → content) under `root`, creating folders. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, content)
  }
}

export function skillContext(workspaceDir: string, overrides: Partial<SkillContext> = {}): SkillContext {
  return {
    sessionId: 'session-1',
    executionId: 'execution-1',
    workspaceDir,
    signal: new AbortController().signal,
    ...overrides,
  }
}

/** Calls a skill the way the sandbox bridge does. */
export function callSkill(
  registry: SkillRegistry,
  context: SkillContext,
  skill: string,
  args: unknown[] = [],
  kwargs: Record<string, unknown> = {},
  allowed: string[] = [skill],
): Promise<unknown> {
  const call: SkillCallRequest = { skill, args, kwargs }
  return registry.createInvoker(context, allowed)(call, new AbortController().signal)
}

export const manifest = (front: string, body = 'Usage guide.') => `---\n${front.trim()}\n---\n${body}\n`
