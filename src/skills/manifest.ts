import { parse } from 'yaml'
import { z } from 'zod'
import { formatZodIssues } from '../config/zod-issues'

const SKILL_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/

/**
 * SKILL.md front matter. `name` and `description` follow the public Agent Skills convention;
 * the rest says how the program calls the skill. Unknown keys (license, metadata, ...) are kept.
 */
export const skillManifestSchema = z.looseObject({
  name: z.string().regex(SKILL_NAME, 'lowercase letters, digits and single hyphens, e.g. web-search'),
  description: z.string().trim().min(1),
  /** JSON Schema of the arguments, or `handler.ts#<export>` naming a zod schema the handler exports. */
  parameters: z.union([
    z.looseObject({ type: z.literal('object') }),
    z.string().regex(/^handler\.ts#[A-Za-z_$][\w$]*$/, 'a JSON Schema object or "handler.ts#<exported zod schema>"'),
  ]),
  /** Python annotation of the return value, e.g. `list[dict]`. */
  returns: z.string().min(1).default('Any'),
  timeoutMs: z.number().int().positive().default(30_000),
  requires: z
    .object({
      /** Must be set, or the skill is rejected at load. */
      env: z.array(z.string()).default([]),
      /** Passed to the handler when set. */
      optionalEnv: z.array(z.string()).default([]),
    })
    .default({ env: [], optionalEnv: [] }),
})
export type SkillManifest = z.infer<typeof skillManifestSchema> & { guide: string }

export type ManifestResult = { ok: true; manifest: SkillManifest } | { ok: false; problem: string }

/** Splits `---` front matter from the Markdown body and validates it. */
export function parseSkillManifest(text: string): ManifestResult {
  const match = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text)
  if (!match) return { ok: false, problem: 'no YAML front matter (the file must start with a --- block)' }
  let raw: unknown
  try {
    raw = parse(match[1])
  } catch (err) {
    return { ok: false, problem: `front matter is not valid YAML: ${String((err as Error).message).split('\n')[0]}` }
  }
  const parsed = skillManifestSchema.safeParse(raw ?? {})
  if (!parsed.success) return { ok: false, problem: `front matter: ${formatZodIssues(parsed.error)}` }
  return { ok: true, manifest: { ...parsed.data, guide: match[2].trim() } }
}
