/** How the program was found in the reply; recorded on the `code` step. */
export type CodeFormat = 'python-fence' | 'code-tag' | 'none'

export interface ExtractedProgram {
  code: string | null
  format: CodeFormat
  /** Text before the program: the model's plan or reasoning. */
  preface: string
}

// Opening fence at the start of a line; the closing fence may be missing when generation stopped at the end.
const FENCE = /(^|\n)[ \t]*```[ \t]*(?:python3?|py)[ \t]*\r?\n([\s\S]*?)(?:\r?\n[ \t]*```|$)/i
const CODE_TAG = /<code>([\s\S]*?)(?:<\/code>|$)/i

/** First ```python (or ```py) fence wins, else the first `<code>…</code>` (GLM-4 style). */
export function extractProgram(reply: string): ExtractedProgram {
  const fence = FENCE.exec(reply)
  const tag = CODE_TAG.exec(reply)
  if (fence && (!tag || fence.index <= tag.index)) return found(reply, fence.index, fence[2], 'python-fence')
  if (tag) return found(reply, tag.index, stripInnerFence(tag[1]), 'code-tag')
  return { code: null, format: 'none', preface: reply.trim() }
}

function found(reply: string, at: number, body: string, format: CodeFormat): ExtractedProgram {
  const code = body.replace(/\s+$/, '')
  if (code.trim() === '') return { code: null, format: 'none', preface: reply.trim() }
  return { code: dedentBlock(code), format, preface: reply.slice(0, at).trim() }
}

/** Some models put a fence inside the tag: `<code>```python ... ```</code>`. */
function stripInnerFence(body: string): string {
  const inner = /^\s*```[ \t]*(?:python3?|py)?[ \t]*\r?\n([\s\S]*?)(?:\r?\n[ \t]*```\s*)?$/i.exec(body)
  return inner ? inner[1] : body.replace(/^\r?\n/, '')
}

/** Removes indentation common to every non-blank line, so an indented block still parses as Python. */
function dedentBlock(code: string): string {
  const lines = code.split('\n')
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length)
  const common = indents.length ? Math.min(...indents) : 0
  return common === 0 ? code : lines.map((l) => l.slice(common)).join('\n')
}
