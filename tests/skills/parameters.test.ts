import { describe, expect, it } from 'vitest'
import { describeSkill } from '../../src/skills/loaded-skill'
import { createArgumentBinder, orderedParameters, pythonSignature } from '../../src/skills/parameters'
import { renderSkillStub } from '../../src/skills/render'

const searchSchema = {
  type: 'object',
  properties: {
    query: { type: 'string', minLength: 1, description: 'Search terms' },
    max_results: { type: 'integer', minimum: 1, maximum: 20, default: 5 },
    tags: { type: 'array', items: { type: 'string' } },
    mode: { enum: ['fast', 'deep'] },
  },
  required: ['query'],
  additionalProperties: false,
}

describe('Python signatures', () => {
  it('renders the pinned web_search signature', () => {
    const params = orderedParameters(searchSchema)
    expect(pythonSignature('web_search', params, 'list[dict]')).toBe(
      `web_search(query: str, max_results: int = 5, tags: list[str] | None = None, mode: Literal["fast", "deep"] | None = None) -> list[dict]`,
    )
  })

  it('puts required parameters before optional ones whatever the schema order', () => {
    const params = orderedParameters({
      type: 'object',
      properties: { verbose: { type: 'boolean', default: false }, path: { type: 'string' } },
      required: ['path'],
    })
    expect(params.map((p) => p.name)).toEqual(['path', 'verbose'])
    expect(pythonSignature('f', params, 'Any')).toBe('f(path: str, verbose: bool = False) -> Any')
  })

  it('renders a stub with a docstring holding the arguments and the usage guide', () => {
    const { info } = describeSkill({
      name: 'web-search',
      description: 'Search the web.',
      parameters: searchSchema,
      returns: 'list[dict]',
      timeoutMs: 1000,
      kind: 'ts',
      guide: 'Use short queries. A """quoted""" word.',
    })
    const stub = renderSkillStub(info)
    expect(stub).toContain('def web_search(query: str, max_results: int = 5')
    expect(stub).toContain('        query: Search terms')
    expect(stub).toContain('        max_results: (default 5)')
    expect(stub).toContain('Use short queries. A \\"\\"\\"quoted\\"\\"\\" word.')
    expect(stub.trimEnd().endsWith('"""')).toBe(true)
  })
})

describe('argument binding and validation', () => {
  const bind = createArgumentBinder('web_search', searchSchema)

  it('maps positional and keyword arguments and fills defaults', () => {
    expect(bind(['redis'], {})).toEqual({ query: 'redis', max_results: 5 })
    expect(bind(['redis', 3], {})).toEqual({ query: 'redis', max_results: 3 })
    expect(bind([], { query: 'redis', max_results: 2, tags: ['a'] })).toEqual({
      query: 'redis',
      max_results: 2,
      tags: ['a'],
    })
  })

  it('treats None for an optional parameter as not given', () => {
    expect(bind(['redis'], { max_results: null })).toEqual({ query: 'redis', max_results: 5 })
  })

  it.each([
    [[], {}, "web_search() missing required argument: 'query'"],
    [['q'], { max_results: 'ten' }, "web_search(): argument 'max_results' must be int, got str"],
    [['q'], { max_results: 2.5 }, "web_search(): argument 'max_results' must be int, got float"],
    [[7], {}, "web_search(): argument 'query' must be str, got int"],
    [['q'], { max_results: 50 }, "web_search(): argument 'max_results' must be <= 20, got 50"],
    [[''], {}, "web_search(): argument 'query' must have at least 1 characters"],
    [['q'], { tags: ['ok', 3] }, "web_search(): argument 'tags[1]' must be str, got int"],
    [['q'], { mode: 'slow' }, `web_search(): argument 'mode' must be one of "fast", "deep", got "slow"`],
    [
      ['q'],
      { limit: 3 },
      "web_search() got an unexpected keyword argument 'limit' (parameters: query, max_results, tags, mode)",
    ],
    [['q'], { query: 'again' }, "web_search() got multiple values for argument 'query'"],
    [['q', 1, [], 'fast', 'x'], {}, 'web_search() takes at most 4 positional arguments but 5 were given'],
  ])('rejects %j %j', (args, kwargs, message) => {
    expect(() => bind(args as unknown[], kwargs as Record<string, unknown>)).toThrow(message)
  })

  it('marks validation errors with a stable code', () => {
    try {
      bind([], {})
      expect.unreachable()
    } catch (err) {
      expect((err as { code: string }).code).toBe('skill_bad_arguments')
    }
  })

  it('accepts extra keyword arguments when the schema allows additional properties', () => {
    const open = createArgumentBinder('f', { type: 'object', properties: {}, additionalProperties: true })
    expect(open([], { anything: 1 })).toEqual({ anything: 1 })
  })
})
