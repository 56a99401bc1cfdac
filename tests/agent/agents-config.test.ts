import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadAgentsConfig, resolveAgents } from '../../src/agent/agents-config'

function writeYaml(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'agents-')), 'agents.yaml')
  writeFileSync(file, text)
  return file
}

describe('agents.yaml', () => {
  it('loads the project file and every agent resolves against the built-in skill names', () => {
    const config = loadAgentsConfig('config/agents.yaml')
    expect(config.defaultAgent).toBe('master')
    expect(Object.keys(config.agents)).toEqual(expect.arrayContaining(['master', 'researcher', 'coder']))
    expect(config.agents.master.delegates).toEqual(['researcher', 'coder'])
  })

  it('expands "*" to every loaded skill', () => {
    const config = loadAgentsConfig(writeYaml('agents:\n  master:\n    description: d\n    skills: "*"\n'))
    expect(resolveAgents(config, ['a', 'b'])[0].skills).toEqual(['a', 'b'])
  })

  it('stops with one clear line on an unknown skill name', () => {
    const config = loadAgentsConfig(
      writeYaml('agents:\n  master:\n    description: d\n    skills: [web-search, web-serach]\n'),
    )
    expect(() => resolveAgents(config, ['web-search', 'summarize'])).toThrow(
      'agents.yaml: agents.master.skills: unknown skill "web-serach" (available skills: web-search, summarize)',
    )
  })

  it('names the field when a delegate target or the default agent does not exist', () => {
    const file = writeYaml('defaultAgent: boss\nagents:\n  master:\n    description: d\n    delegates: [ghost]\n')
    expect(() => loadAgentsConfig(file)).toThrow(
      /defaultAgent: no agent named "boss".*agents\.master\.delegates: no agent named "ghost"/,
    )
  })
})
