import type { Frame } from '@pydantic/monty'

/**
 * Notebook semantics on top of Monty, which runs one program at a time: after a successful run the
 * session keeps (1) the values of its variables, handed back on demand through Monty's name
 * lookups, and (2) the source of top-level imports and `def`s, replayed as a prelude. Variables are
 * carried only as data (what converts to JSON-like values), and only from runs that succeeded.
 */
export const KEEP_FUNCTION = '__motia_keep__'
export const FINAL_FUNCTION = '__motia_final__'
export const SAVING_FUNCTION = '__motia_saving__'
/** What an unbound name reads as while the saver runs; never kept. */
export const UNBOUND = '\u0000motia:unbound'

const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case print'.split(
    ' ',
  ),
)
const DATA_TYPES = new Set([
  'int',
  'float',
  'str',
  'bool',
  'NoneType',
  'list',
  'dict',
  'tuple',
  'set',
  'frozenset',
  'bytes',
])

export interface Definitions {
  imports: string[]
  /** `def` blocks by function name; a later definition replaces an earlier one. */
  functions: Map<string, string>
}

/** Top-level imports and function definitions of a program (decorators included). */
export function topLevelDefinitions(code: string): Definitions {
  const lines = code.split('\n')
  const imports: string[] = []
  const functions = new Map<string, string>()
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (/^(import|from)\s+\S/.test(line) && !/[\\(]\s*$/.test(line)) imports.push(line.trimEnd())
    const def = /^(?:async\s+)?def\s+([A-Za-z_]\w*)/.exec(line)
    if (!def) continue
    let start = i
    while (start > 0 && lines[start - 1].startsWith('@')) start--
    let end = i + 1
    while (end < lines.length && (lines[end].trim() === '' || /^\s/.test(lines[end]))) end++
    functions.set(def[1], lines.slice(start, end).join('\n').trimEnd())
    i = end - 1
  }
  return { imports, functions }
}

/** Names the program may have bound: every identifier that is not an attribute, keyword or definition. */
export function candidateNames(code: string, defined: Definitions): string[] {
  const names = new Set<string>()
  for (const match of code.matchAll(/(?<![.\w])([A-Za-z_]\w*)/g)) {
    const name = match[1]
    if (KEYWORDS.has(name) || name.startsWith('__motia') || defined.functions.has(name)) continue
    names.add(name)
  }
  for (const statement of defined.imports) {
    for (const name of statement.matchAll(/\b([A-Za-z_]\w*)\b/g)) names.delete(name[1])
  }
  return [...names]
}

/** Names the program binds at module level (assignments, loop targets, `as`, walrus): a heuristic. */
export function assignedNames(code: string, candidates: string[]): string[] {
  const found = new Set<string>()
  const addAll = (text: string) => {
    for (const m of text.matchAll(/[A-Za-z_]\w*/g)) found.add(m[0])
  }
  for (const m of code.matchAll(/(?<![.\w])([A-Za-z_]\w*)\s*(?:[-+*/%&|^@]|\/\/|\*\*|<<|>>|:)?=(?!=)/g)) found.add(m[1])
  for (const m of code.matchAll(/^\s*([A-Za-z_][\w\s,()[\]]*?)=(?!=)/gm)) addAll(m[1])
  for (const m of code.matchAll(/\bfor\s+([\w\s,()]+?)\s+in\b/g)) addAll(m[1])
  for (const m of code.matchAll(/\bas\s+([A-Za-z_]\w*)/g)) found.add(m[1])
  return candidates.filter((name) => found.has(name))
}

/**
 * The program as Monty runs it: the session prelude, a saver that hands the values of `names` (with
 * their type names) to the host, a `final_answer` that saves before it ends the program, the
 * program, then a save.
 */
export function sessionProgram(
  head: string,
  code: string,
  names: string[],
  assigned: string[],
): { program: string; offset: number } {
  const values = names.join(', ')
  const types = names.map((n) => `type(${n}).__name__`).join(', ')
  const support = [
    // Fast path when every name is bound; otherwise the host answers unbound names with UNBOUND.
    'def __motia_save():',
    '    try:',
    `        ${KEEP_FUNCTION}([${values}], [${types}])`,
    '    except NameError:',
    `        ${SAVING_FUNCTION}()`,
    `        ${KEEP_FUNCTION}([${values}], [${types}])`,
    'def final_answer(value=None):',
    '    __motia_save()',
    `    ${FINAL_FUNCTION}(value)`,
    '',
  ].join('\n')
  // Monty binds a function's global names when it compiles the function, so declare them first.
  const declare = assigned.length ? `if False:\n    ${assigned.join(' = ')} = None\n` : ''
  const before = `${declare}${head}${support}`
  return { program: `${before}${code}\n__motia_save()`, offset: before.split('\n').length - 1 }
}

/** Pairs the saver's values with their Python type names, keeping data and dropping unbound names. */
export function keptValues(names: string[], values: unknown[], types: unknown[]): Map<string, unknown> {
  const kept = new Map<string, unknown>()
  names.forEach((name, i) => {
    if (values[i] !== UNBOUND && DATA_TYPES.has(String(types[i]))) kept.set(name, values[i])
  })
  return kept
}

export function prelude(defs: Definitions): string {
  const parts = [...defs.imports, ...defs.functions.values()]
  return parts.length ? `${parts.join('\n')}\n` : ''
}

/** A Python-style traceback with line numbers of the program as written (prelude lines shifted out). */
export function formatTraceback(frames: Frame[], offset: number, typeAndMessage: string): string {
  const lines = ['Traceback (most recent call last):']
  for (const frame of frames) {
    const inProgram = frame.line > offset
    const file = inProgram ? '<program>' : '<session>'
    const line = inProgram ? frame.line - offset : frame.line
    lines.push(`  File "${file}", line ${line}, in ${frame.functionName ?? '<module>'}`)
    if (frame.sourceLine) lines.push(`    ${frame.sourceLine.trim()}`)
  }
  lines.push(typeAndMessage)
  return `${lines.join('\n')}\n`
}
