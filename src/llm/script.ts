import { z } from 'zod'

/** A `match` is a case-insensitive regular expression tested against the last user message. */
export const matchPattern = z.string().refine(
  (source) => {
    try {
      new RegExp(source, 'i')
      return true
    } catch {
      return false
    }
  },
  { message: 'not a valid regular expression' },
)

/**
 * Picks the entry for a message: the first entry whose `match` matches wins; otherwise the entries
 * without `match` answer in turn, starting over after the last so a demo can run again and again.
 */
export function createScriptPicker<T extends { match?: string }>(entries: T[]): (message: string) => T | undefined {
  const matchers = entries.flatMap((entry) => (entry.match ? [{ entry, re: new RegExp(entry.match, 'i') }] : []))
  const sequence = entries.filter((entry) => !entry.match)
  let next = 0
  return (message) => {
    const hit = matchers.find((m) => m.re.test(message))
    if (hit) return hit.entry
    if (!sequence.length) return undefined
    const entry = sequence[next % sequence.length]
    next++
    return entry
  }
}
