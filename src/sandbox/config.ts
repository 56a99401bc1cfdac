import { z } from 'zod'
import type { EnvConfig } from '../config/env'
import { ConfigError } from '../config/errors'
import { loadYamlFile } from '../config/yaml-file'

const localOptions = z.object({
  /** `python3` is resolved once at start to a real binary (never a pyenv shim). */
  pythonPath: z.string().min(1).default('python3'),
  /** Wall-clock limit of one run, ms; the whole process group is killed past it. */
  timeout: z.number().int().positive().default(30_000),
  /** Root of the per-session workspaces; warm interpreters can serve sessions under it. */
  workspace: z.string().min(1).default('./workspace'),
  maxSessions: z.number().int().positive().default(10),
  /** Sessions unused for this long are closed. */
  idleTimeoutMs: z.number().int().positive().default(600_000),
  /** Interpreters kept started and ready for new sessions. */
  poolSize: z.number().int().min(0).default(2),
  maxMemoryBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024 * 1024),
  maxFileBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** Processes and threads of one session (RLIMIT_NPROC on the session's own uid). */
  maxProcesses: z.number().int().positive().default(64),
  maxOutputBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** `auto` uses bubblewrap, then `unshare -n`, then a plain process, and reports which it got. */
  isolation: z.enum(['auto', 'bwrap', 'unshare', 'none']).default('auto'),
  /** First uid of the per-session uids used when the host runs as root. */
  uidBase: z.number().int().positive().default(200_000),
  /** Host directories masked with an empty tmpfs inside bubblewrap; defaults to the project dir and $HOME. */
  hidePaths: z.array(z.string()).optional(),
})

const montyOptions = z.object({
  timeout: z.number().int().positive().default(5_000),
  maxMemoryBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  maxAllocations: z.number().int().positive().optional(),
  maxRecursionDepth: z.number().int().positive().default(1000),
  maxOutputBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  maxSessions: z.number().int().positive().default(100),
  idleTimeoutMs: z.number().int().positive().default(600_000),
})

const localAdapter = z.object({ type: z.literal('local'), local: localOptions.default(localOptions.parse({})) })
const montyAdapter = z.object({ type: z.literal('monty'), monty: montyOptions.default(montyOptions.parse({})) })
const adapterSchema = z.discriminatedUnion('type', [localAdapter, montyAdapter])

export const sandboxConfigSchema = z.object({
  default_adapter: z.string().min(1).default('local'),
  adapters: z.record(z.string(), adapterSchema).default({}),
})

export type LocalSandboxOptions = z.infer<typeof localOptions>
export type MontySandboxOptions = z.infer<typeof montyOptions>
export type SandboxAdapterConfig = z.infer<typeof adapterSchema>
export type SandboxConfig = z.infer<typeof sandboxConfigSchema>
export const SANDBOX_TYPES = ['local', 'monty'] as const

const BUILT_IN_DEFAULTS = {
  default_adapter: 'local',
  adapters: { local: { type: 'local' }, monty: { type: 'monty' } },
}

/**
 * Reads `env.SANDBOX_CONFIG_FILE` (missing file: built-in defaults). `SANDBOX_TYPE` picks the default
 * adapter by name or type; `SANDBOX_PYTHON_PATH` overrides the interpreter of every local adapter.
 */
export function loadSandboxConfig(
  env: Pick<EnvConfig, 'SANDBOX_CONFIG_FILE' | 'SANDBOX_TYPE' | 'SANDBOX_PYTHON_PATH'>,
) {
  const config = loadYamlFile(env.SANDBOX_CONFIG_FILE, sandboxConfigSchema, BUILT_IN_DEFAULTS)
  if (Object.keys(config.adapters).length === 0) Object.assign(config, sandboxConfigSchema.parse(BUILT_IN_DEFAULTS))
  if (env.SANDBOX_TYPE) config.default_adapter = selectDefault(config, env.SANDBOX_TYPE)
  if (env.SANDBOX_PYTHON_PATH) {
    for (const adapter of Object.values(config.adapters)) {
      if (adapter.type === 'local') adapter.local.pythonPath = env.SANDBOX_PYTHON_PATH
    }
  }
  if (!config.adapters[config.default_adapter]) {
    throw new ConfigError(
      `${env.SANDBOX_CONFIG_FILE}: default_adapter "${config.default_adapter}" is not one of the configured adapters (${Object.keys(config.adapters).join(', ')})`,
    )
  }
  return config
}

function selectDefault(config: SandboxConfig, wanted: string): string {
  if (config.adapters[wanted]) return wanted
  const byType = Object.entries(config.adapters).find(([, adapter]) => adapter.type === wanted)
  if (byType) return byType[0]
  if ((SANDBOX_TYPES as readonly string[]).includes(wanted)) {
    config.adapters[wanted] = adapterSchema.parse({ type: wanted })
    return wanted
  }
  throw new ConfigError(
    `Invalid environment variable SANDBOX_TYPE: "${wanted}" is neither a configured adapter nor a type (allowed: ${[...SANDBOX_TYPES, ...Object.keys(config.adapters)].join(', ')})`,
    { variable: 'SANDBOX_TYPE' },
  )
}
