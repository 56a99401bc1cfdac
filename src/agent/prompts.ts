import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Prompt templates in `src/agent/prompts/*.md`; code only fills them. */
export type PromptName =
  | 'system'
  | 'delegation'
  | 'task'
  | 'history'
  | 'observation'
  | 'repair'
  | 'no-code'
  | 'plan'
  | 'code-after-plan'
  | 'rule-output-is-answer'
  | 'rule-final-answer-only'

const promptsDir = fileURLToPath(new URL('./prompts/', import.meta.url))
const cache = new Map<PromptName, string>()

export function loadPrompt(name: PromptName): string {
  let text = cache.get(name)
  if (text === undefined) {
    text = readFileSync(`${promptsDir}${name}.md`, 'utf8')
    cache.set(name, text)
  }
  return text
}

/** Replaces each `{{key}}`; a placeholder without a value is a bug in the caller, so it throws. */
export function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key]
    if (value === undefined) throw new Error(`prompt placeholder {{${key}}} has no value`)
    return String(value)
  })
}

export function renderPrompt(name: PromptName, values: Record<string, string | number> = {}): string {
  return fillTemplate(loadPrompt(name), values)
}
