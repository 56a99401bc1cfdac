import { existsSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import type { z } from 'zod'
import { ConfigError } from './errors'
import { formatZodIssues } from './zod-issues'

/**
 * Reads a YAML (or JSON) config file and validates it once. A missing file yields `fallback`
 * when one is given; broken YAML or a bad value throws a ConfigError naming the file and the field.
 */
export function loadYamlFile<T extends z.ZodTypeAny>(path: string, schema: T, fallback?: unknown): z.infer<T> {
  let raw: unknown = fallback
  if (existsSync(path)) {
    try {
      raw = parse(readFileSync(path, 'utf8')) ?? {}
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
      throw new ConfigError(`${path}: not valid YAML: ${reason}`)
    }
  } else if (fallback === undefined) {
    throw new ConfigError(`${path}: file not found`)
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) throw new ConfigError(`${path}: ${formatZodIssues(parsed.error)}`)
  return parsed.data
}
