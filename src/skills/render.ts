import { orderedParameters, pythonLiteral } from './parameters'
import type { SkillInfo } from './types'

const INDENT = '    '

const indent = (text: string, prefix: string) =>
  text
    .split('\n')
    .map((line) => (line.trim() ? prefix + line : ''))
    .join('\n')

/**
 * One skill as a Python stub the model can read:
 *
 *     def web_search(query: str, max_results: int = 5) -> list[dict]:
 *         """Search the web. ... Args: ... <usage guide>"""
 */
export function renderSkillStub(skill: SkillInfo): string {
  const params = orderedParameters(skill.parameters)
  const parts = [skill.description.trim()]
  if (params.length) {
    const lines = params.map((p) => {
      const extra = p.hasDefault ? `(default ${pythonLiteral(p.default)})` : p.required ? '' : '(optional)'
      return `${INDENT}${p.name}: ${[p.description?.trim(), extra].filter(Boolean).join(' ')}`.trimEnd()
    })
    parts.push(`Args:\n${lines.join('\n')}`)
  }
  if (skill.guide.trim()) parts.push(skill.guide.trim())
  // A literal """ inside the docstring would end it early.
  const doc = parts.join('\n\n').replaceAll('"""', '\\"\\"\\"')
  return `def ${skill.signature}:\n${INDENT}"""\n${indent(doc, INDENT)}\n${INDENT}"""\n`
}

export function renderCatalogText(skills: SkillInfo[]): string {
  return skills.map(renderSkillStub).join('\n')
}
