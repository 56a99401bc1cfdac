import { z } from 'zod'
import { ConfigError } from './errors'

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)
const optionalString = z.preprocess(emptyToUndefined, z.string().optional())
const optionalUrl = z.preprocess(emptyToUndefined, z.string().url().optional())
// LLM base URLs: a bare `localhost:11434` parses as a URL with scheme "localhost:", so require http(s).
const optionalHttpUrl = z.preprocess(
  emptyToUndefined,
  z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
)
const intWithDefault = (def: number, min = 0) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).default(def))
const csv = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
  z.array(z.string()),
)

/** Express `trust proxy`: true/false, a hop count, or a list of trusted addresses/subnets. */
const trustProxyValue = (v: unknown) => {
  const value = emptyToUndefined(v)
  if (typeof value !== 'string') return value
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true'
  return /^\d+$/.test(value) ? Number(value) : value
}

export const LLM_PROVIDER_TYPES = ['anthropic', 'openai-compatible', 'openai', 'scripted'] as const

/** Every environment variable the service reads. `.env.example` documents each one. */
export const envSchema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
  PORT: intWithDefault(3000, 1),
  REDIS_URL: optionalUrl,
  DEFAULT_LLM_PROVIDER: z.preprocess(emptyToUndefined, z.enum(LLM_PROVIDER_TYPES).optional()),
  DEFAULT_LLM_MODEL: optionalString,
  LLM_BASE_URL: optionalHttpUrl,
  LLM_API_KEY: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalHttpUrl,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalHttpUrl,
  LLM_SCRIPT_FILE: optionalString,
  LLM_TIMEOUT_MS: intWithDefault(120_000, 1),
  LLM_MAX_RETRIES: intWithDefault(3, 0),
  LLM_CONFIG_FILE: z.preprocess(emptyToUndefined, z.string().default('config/llm.yaml')),
  SANDBOX_TYPE: optionalString,
  SANDBOX_PYTHON_PATH: optionalString,
  SANDBOX_CONFIG_FILE: z.preprocess(emptyToUndefined, z.string().default('config/sandbox.config.yaml')),
  AGENTS_CONFIG_FILE: z.preprocess(emptyToUndefined, z.string().default('config/agents.yaml')),
  SKILLS_CONFIG_FILE: z.preprocess(emptyToUndefined, z.string().default('config/skills.yaml')),
  MCP_CONFIG_FILE: z.preprocess(emptyToUndefined, z.string().default('config/mcp.json')),
  WORKSPACE_DIR: z.preprocess(emptyToUndefined, z.string().default('./workspace')),
  SEARXNG_URL: optionalUrl,
  BRAVE_API_KEY: optionalString,
  TAVILY_API_KEY: optionalString,
  AGENT_API_KEYS: csv,
  AGENT_API_KEYS_FILE: optionalString,
  AGENT_CONCURRENCY: intWithDefault(4, 1),
  SHUTDOWN_GRACE_MS: intWithDefault(30_000, 0),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  ),
  // HTTP hardening (src/motia/http); a limit of 0 switches that limit off.
  RATE_LIMIT_PER_MINUTE: intWithDefault(120, 0),
  RATE_LIMIT_IP_PER_MINUTE: intWithDefault(300, 0),
  MAX_RUNNING_TASKS_PER_KEY: intWithDefault(8, 0),
  CORS_ORIGINS: csv,
  MAX_BODY_BYTES: intWithDefault(1_048_576, 1),
  REQUEST_TIMEOUT_MS: intWithDefault(30_000, 1),
  TRUST_PROXY: z.preprocess(
    trustProxyValue,
    z.union([z.boolean(), z.number().int().min(0), z.string()]).default(false),
  ),
  EXECUTION_RETENTION_DAYS: intWithDefault(7, 0),
  MOTIA_DOCKER_DISABLE_WORKBENCH: optionalString,
})

export type EnvConfig = z.infer<typeof envSchema>

/** Parses the environment once. A bad value throws a ConfigError with one line naming the variable. */
/** Workbench listens for HMR on 21678 + PORT; past this, Motia exits silently at start. */
export const MAX_PORT_WITH_WORKBENCH = 65_535 - 21_678

export function loadEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const parsed = envSchema.safeParse(env)
  if (parsed.success) {
    if (parsed.data.PORT > MAX_PORT_WITH_WORKBENCH && !parsed.data.MOTIA_DOCKER_DISABLE_WORKBENCH) {
      throw new ConfigError(
        `Invalid environment variable PORT: at most ${MAX_PORT_WITH_WORKBENCH} while Workbench is on (its HMR socket uses 21678 + PORT); set MOTIA_DOCKER_DISABLE_WORKBENCH=1 to turn Workbench off`,
        { variable: 'PORT' },
      )
    }
    return parsed.data
  }
  const first = parsed.error.issues[0]
  const name = String(first.path[0] ?? 'environment')
  const allowed = 'values' in first && Array.isArray(first.values) ? ` (allowed: ${first.values.join(', ')})` : ''
  throw new ConfigError(`Invalid environment variable ${name}: ${first.message}${allowed}`, { variable: name })
}
