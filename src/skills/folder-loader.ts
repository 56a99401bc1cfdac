import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { createJiti } from 'jiti'
import { z } from 'zod'
import { formatZodIssues } from '../config/zod-issues'
import { describeSkill, type LoadedSkill } from './loaded-skill'
import { parseSkillManifest, type SkillManifest } from './manifest'
import type { JsonSchema } from './parameters'
import { PythonSkillWorker } from './python-worker'
import type { SkillHandler, SkillLoadError } from './types'

// No module cache: a reload after an edit must see the new handler code (the file cache is keyed by content).
const jiti = createJiti(import.meta.url, { moduleCache: false })

export interface FolderLoadOptions {
  env: Record<string, string | undefined>
  settings: Record<string, unknown>
  pythonPath: string
  /** Compile problems of handler.py files, checked in one batch by the registry. */
  pythonProblems: Map<string, string>
}

export type FolderLoadResult = { ok: true; skill: LoadedSkill } | { ok: false; error: SkillLoadError }

class SkillFolderError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message)
  }
}

/** Loads `dir/SKILL.md` and its handler; every problem comes back as a value naming the file. */
export async function loadSkillFolder(dir: string, options: FolderLoadOptions): Promise<FolderLoadResult> {
  const manifestFile = join(dir, 'SKILL.md')
  let skillName = basename(dir)
  try {
    if (!existsSync(manifestFile)) throw new SkillFolderError(manifestFile, 'missing SKILL.md')
    const parsed = parseSkillManifest(readFileSync(manifestFile, 'utf8'))
    if (!parsed.ok) throw new SkillFolderError(manifestFile, parsed.problem)
    const manifest = parsed.manifest
    skillName = manifest.name
    if (manifest.name !== basename(dir)) {
      throw new SkillFolderError(manifestFile, `name '${manifest.name}' must match the folder name '${basename(dir)}'`)
    }
    const env = resolveEnv(manifest, options.env, manifestFile)
    const tsFile = join(dir, 'handler.ts')
    const pyFile = join(dir, 'handler.py')
    const hasTs = existsSync(tsFile)
    const hasPy = existsSync(pyFile)
    if (hasTs && hasPy) throw new SkillFolderError(dir, 'has both handler.ts and handler.py; keep one')
    if (hasTs) return { ok: true, skill: await loadTsSkill(dir, tsFile, manifest, env, options) }
    if (hasPy) return { ok: true, skill: loadPySkill(dir, pyFile, manifest, env, options) }
    throw new SkillFolderError(dir, 'no handler.ts or handler.py')
  } catch (err) {
    const file = err instanceof SkillFolderError ? err.file : dir
    const problem = err instanceof Error ? err.message.split('\n')[0] : String(err)
    return { ok: false, error: { skill: skillName, file, problem } }
  }
}

function resolveEnv(manifest: SkillManifest, env: FolderLoadOptions['env'], file: string): Record<string, string> {
  const missing = manifest.requires.env.filter((name) => !env[name])
  if (missing.length) throw new SkillFolderError(file, `requires env ${missing.join(', ')}, which is not set`)
  const resolved: Record<string, string> = {}
  for (const name of [...manifest.requires.env, ...manifest.requires.optionalEnv]) {
    const value = env[name]
    if (value) resolved[name] = value
  }
  return resolved
}

async function loadTsSkill(
  dir: string,
  file: string,
  manifest: SkillManifest,
  env: Record<string, string>,
  options: FolderLoadOptions,
): Promise<LoadedSkill> {
  let mod: Record<string, unknown>
  try {
    mod = await jiti.import<Record<string, unknown>>(file)
  } catch (err) {
    throw new SkillFolderError(file, `cannot load: ${(err as Error).message.split('\n')[0]}`)
  }
  const handler = mod.default
  if (typeof handler !== 'function') throw new SkillFolderError(file, 'must default-export a handler function')
  const settings = validateSettings(mod.settings, options.settings, file)
  const parameters = parametersFrom(manifest.parameters, mod, file)
  const { info, bind } = describeOrFail(manifest, parameters, 'ts', file)
  return {
    info,
    dir,
    bind,
    env,
    settings,
    run: async (args, ctx) => (handler as SkillHandler)(args, ctx),
    close: () => {},
  }
}

function loadPySkill(
  dir: string,
  file: string,
  manifest: SkillManifest,
  env: Record<string, string>,
  options: FolderLoadOptions,
): LoadedSkill {
  const problem = options.pythonProblems.get(file)
  if (problem) throw new SkillFolderError(file, problem)
  if (typeof manifest.parameters === 'string') {
    throw new SkillFolderError(join(dir, 'SKILL.md'), 'a Python skill needs parameters as a JSON Schema object')
  }
  const { info, bind } = describeOrFail(manifest, manifest.parameters, 'py', join(dir, 'SKILL.md'))
  const worker = new PythonSkillWorker({
    pythonPath: options.pythonPath,
    handlerFile: file,
    label: info.pythonName,
    env,
  })
  return {
    info,
    dir,
    bind,
    env,
    settings: options.settings,
    run: (args, ctx) =>
      worker.call(
        args,
        {
          skill: ctx.skill,
          sessionId: ctx.sessionId,
          executionId: ctx.executionId,
          workspaceDir: ctx.workspaceDir,
          rootDir: ctx.rootDir,
          settings: ctx.settings,
        },
        ctx.signal,
      ),
    close: () => worker.close(),
  }
}

// Duck-typed: the handler's zod may be a different module instance than ours (loaded through jiti).
const isZodSchema = (v: unknown): v is z.ZodType =>
  typeof v === 'object' && v !== null && '_zod' in v && typeof (v as z.ZodType).safeParse === 'function'

function validateSettings(schema: unknown, settings: Record<string, unknown>, file: string): Record<string, unknown> {
  if (!isZodSchema(schema)) return settings
  const parsed = schema.safeParse(settings)
  if (!parsed.success) throw new SkillFolderError(file, `settings in skills config: ${formatZodIssues(parsed.error)}`)
  return parsed.data as Record<string, unknown>
}

function parametersFrom(spec: SkillManifest['parameters'], mod: Record<string, unknown>, file: string): JsonSchema {
  if (typeof spec !== 'string') return spec
  const exportName = spec.split('#')[1]
  const schema = mod[exportName]
  if (!isZodSchema(schema)) throw new SkillFolderError(file, `does not export a zod schema '${exportName}'`)
  // `input` so that fields with defaults are optional, as they are for the caller.
  return z.toJSONSchema(schema, { io: 'input' }) as JsonSchema
}

function describeOrFail(manifest: SkillManifest, parameters: JsonSchema, kind: string, file: string) {
  try {
    return describeSkill({
      name: manifest.name,
      description: manifest.description,
      parameters,
      returns: manifest.returns,
      timeoutMs: manifest.timeoutMs,
      kind,
      guide: manifest.guide,
    })
  } catch (err) {
    throw new SkillFolderError(file, `parameters are not a usable JSON Schema: ${(err as Error).message}`)
  }
}
