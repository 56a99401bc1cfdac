import { z } from 'zod'
import { AppError } from '../config/errors'

export type JsonSchema = Record<string, unknown>

export interface SkillParameter {
  name: string
  schema: JsonSchema
  required: boolean
  hasDefault: boolean
  default?: unknown
  description?: string
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Parameters in positional order: required ones first, then optional ones, each in schema order
 * (Python forbids a parameter without default after one with a default).
 */
export function orderedParameters(schema: JsonSchema): SkillParameter[] {
  const properties = isRecord(schema.properties) ? schema.properties : {}
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : [])
  const params = Object.entries(properties).map(([name, raw]) => {
    const sub = isRecord(raw) ? raw : {}
    return {
      name,
      schema: sub,
      required: required.has(name),
      hasDefault: 'default' in sub,
      default: sub.default,
      description: typeof sub.description === 'string' ? sub.description : undefined,
    }
  })
  return [...params.filter((p) => p.required), ...params.filter((p) => !p.required)]
}

const PY_TYPES: Record<string, string> = {
  string: 'str',
  integer: 'int',
  number: 'float',
  boolean: 'bool',
  null: 'None',
  object: 'dict',
  array: 'list',
}

/** Python annotation for a JSON Schema, e.g. `list[str]`, `int | None`. */
export function pythonType(schema: JsonSchema): string {
  const union = (schema.anyOf ?? schema.oneOf) as unknown
  if (Array.isArray(union)) return [...new Set(union.map((s) => pythonType(isRecord(s) ? s : {})))].join(' | ')
  if (Array.isArray(schema.enum)) return `Literal[${schema.enum.map(pythonLiteral).join(', ')}]`
  if (Array.isArray(schema.type)) return schema.type.map((t) => PY_TYPES[String(t)] ?? 'Any').join(' | ')
  if (schema.type === 'array' && isRecord(schema.items)) return `list[${pythonType(schema.items)}]`
  return PY_TYPES[String(schema.type)] ?? 'Any'
}

/** A JSON value written as a Python literal (`true` → `True`, `null` → `None`). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`
  if (isRecord(value)) {
    const items = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`)
    return `{${items.join(', ')}}`
  }
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/** `web_search(query: str, max_results: int = 5) -> list[dict]` */
export function pythonSignature(pythonName: string, params: SkillParameter[], returns: string): string {
  const rendered = params.map((p) => {
    const type = pythonType(p.schema)
    if (p.hasDefault) return `${p.name}: ${type} = ${pythonLiteral(p.default)}`
    return p.required ? `${p.name}: ${type}` : `${p.name}: ${type} | None = None`
  })
  return `${pythonName}(${rendered.join(', ')}) -> ${returns}`
}

/** Python's name for the type of a JSON value, for error messages the program reads. */
export function pythonTypeOf(value: unknown): string {
  if (value === null || value === undefined) return 'None'
  if (Array.isArray(value)) return 'list'
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float'
  return { string: 'str', boolean: 'bool', object: 'dict' }[typeof value as string] ?? typeof value
}

export type ArgumentBinder = (args: unknown[], kwargs: Record<string, unknown>) => Record<string, unknown>

const badArguments = (message: string) => new AppError('skill_bad_arguments', message)

/**
 * Maps a Python call (positional + keyword arguments) onto the schema's parameters the way Python
 * does, then validates with zod (built from the JSON Schema) and fills defaults.
 */
export function createArgumentBinder(pythonName: string, schema: JsonSchema): ArgumentBinder {
  const params = orderedParameters(schema)
  const names = new Set(params.map((p) => p.name))
  const openEnded = schema.additionalProperties === true || isRecord(schema.additionalProperties)
  const validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0])
  const fn = `${pythonName}()`

  return (args, kwargs) => {
    if (args.length > params.length) {
      throw badArguments(`${fn} takes at most ${params.length} positional arguments but ${args.length} were given`)
    }
    const bound: Record<string, unknown> = {}
    args.forEach((value, i) => {
      bound[params[i].name] = value
    })
    for (const [key, value] of Object.entries(kwargs)) {
      if (key in bound) throw badArguments(`${fn} got multiple values for argument '${key}'`)
      if (!names.has(key) && !openEnded) {
        const known = params.map((p) => p.name).join(', ') || 'none'
        throw badArguments(`${fn} got an unexpected keyword argument '${key}' (parameters: ${known})`)
      }
      bound[key] = value
    }
    // Python's None for an optional parameter means "not given".
    for (const p of params) if (!p.required && bound[p.name] === null && !acceptsNull(p.schema)) delete bound[p.name]
    const missing = params.filter((p) => p.required && !(p.name in bound)).map((p) => `'${p.name}'`)
    if (missing.length) {
      throw badArguments(`${fn} missing required argument${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`)
    }
    const parsed = validator.safeParse(bound)
    if (parsed.success) return parsed.data as Record<string, unknown>
    throw badArguments(`${fn}: ${describeIssue(parsed.error.issues[0], schema, bound)}`)
  }
}

function acceptsNull(schema: JsonSchema): boolean {
  if (schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'))) return true
  const union = (schema.anyOf ?? schema.oneOf) as unknown
  return Array.isArray(union) && union.some((s) => isRecord(s) && acceptsNull(s))
}

function schemaAt(schema: JsonSchema, path: PropertyKey[]): JsonSchema | undefined {
  let current: JsonSchema | undefined = schema
  for (const key of path) {
    if (!current) return undefined
    const next: unknown = typeof key === 'number' ? current.items : (current.properties as JsonSchema)?.[key as string]
    current = isRecord(next) ? next : undefined
  }
  return current
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<PropertyKey, unknown> | undefined)?.[key], value)
}

const pathLabel = (path: PropertyKey[]) =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `['${String(k)}']`)).join('')

const unit = (origin: string) => (origin === 'string' ? 'characters' : 'items')

function describeIssue(issue: z.core.$ZodIssue, schema: JsonSchema, bound: Record<string, unknown>): string {
  const path = issue.path
  const subject = path.length ? `argument '${pathLabel(path)}'` : 'arguments'
  const value = valueAt(bound, path)
  switch (issue.code) {
    case 'invalid_type': {
      if (value === undefined) return `${subject} is missing`
      const sub = schemaAt(schema, path)
      return `${subject} must be ${sub ? pythonType(sub) : issue.expected}, got ${pythonTypeOf(value)}`
    }
    case 'invalid_value':
      return `${subject} must be one of ${issue.values.map(pythonLiteral).join(', ')}, got ${pythonLiteral(value)}`
    case 'unrecognized_keys':
      return `${subject} has unexpected keys ${issue.keys.map((k) => `'${k}'`).join(', ')}`
    case 'too_small':
      return issue.origin === 'number'
        ? `${subject} must be >= ${issue.minimum}, got ${pythonLiteral(value)}`
        : `${subject} must have at least ${issue.minimum} ${unit(issue.origin)}`
    case 'too_big':
      return issue.origin === 'number'
        ? `${subject} must be <= ${issue.maximum}, got ${pythonLiteral(value)}`
        : `${subject} must have at most ${issue.maximum} ${unit(issue.origin)}`
    default:
      return `${subject}: ${issue.message}`
  }
}
