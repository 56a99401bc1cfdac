import { existsSync, readFileSync } from 'node:fs'
import { z } from 'zod'
import { ConfigError } from '../config/errors'
import { loadYamlFile } from '../config/yaml-file'
import { formatZodIssues } from '../config/zod-issues'

/** `config/skills.yaml`: where skills come from and each skill's settings. */
export const skillsConfigSchema = z.object({
  /** Extra folders holding skill folders, relative to the project root; loaded after the built-in `skills/`. */
  extraDirs: z.array(z.string()).default([]),
  /** Skill names not to load at all. */
  disabled: z.array(z.string()).default([]),
  /** Per-skill settings, handed to the handler as `ctx.settings` (keyed by skill name). */
  settings: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
})
export type SkillsConfig = z.infer<typeof skillsConfigSchema>

export function loadSkillsConfig(path: string): SkillsConfig {
  return loadYamlFile(path, skillsConfigSchema, {})
}

const stdioServerSchema = z.object({
  type: z.literal('stdio').optional(),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().optional(),
})

const httpServerSchema = z.object({
  type: z.enum(['http', 'streamable-http', 'streamableHttp']).optional(),
  url: z.string().url(),
  headers: z.record(z.string(), z.string()).default({}),
})

const serverSchema = z.union([stdioServerSchema, httpServerSchema]).and(
  z.object({
    /** Off switch without deleting the entry. */
    disabled: z.boolean().default(false),
    /** How long connecting and listing tools may take. */
    startupTimeoutMs: z.number().int().positive().default(20_000),
    /** Per-call time limit for this server's tools. */
    timeoutMs: z.number().int().positive().default(60_000),
  }),
)

/** `config/mcp.json` in the common `mcpServers` format (Claude Desktop, Cursor, ...). */
export const mcpConfigSchema = z.object({
  mcpServers: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'server names are letters, digits, - and _'), serverSchema)
    .default({}),
})
export type McpConfig = z.infer<typeof mcpConfigSchema>
export type McpServerConfig = McpConfig['mcpServers'][string]

/** A missing file means no MCP servers; a broken one stops start-up with the file and field named. */
export function loadMcpConfig(path: string): McpConfig {
  if (!existsSync(path)) return { mcpServers: {} }
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  const parsed = mcpConfigSchema.safeParse(raw)
  if (!parsed.success) throw new ConfigError(`${path}: ${formatZodIssues(parsed.error)}`)
  return parsed.data
}
