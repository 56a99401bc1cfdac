/**
 * Monty hands Python values to JS as Maps (dicts), Sets, tagged arrays (tuples), Buffers (bytes)
 * and BigInts; skills and run results take plain JSON, so convert at the boundary.
 */
export function toJson(value: unknown): unknown {
  if (value instanceof Map) {
    return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), toJson(v)]))
  }
  if (value instanceof Set) return [...value].map(toJson)
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('utf8')
  if (Array.isArray(value)) return value.map(toJson)
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (typeof value === 'number' && !Number.isFinite(value)) return null
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]))
  }
  return value ?? null
}
