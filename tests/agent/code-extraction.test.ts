import { describe, expect, it } from 'vitest'
import { extractProgram } from '../../src/agent/code-extraction'

describe('extractProgram', () => {
  it('takes the first ```python fence and keeps the text before it as the plan', () => {
    const reply =
      'Plan:\n1. search\n2. answer\n\n```python\nx = web_search("a")\nfinal_answer(x)\n```\n\n```python\nprint(2)\n```'
    const got = extractProgram(reply)
    expect(got).toEqual({
      code: 'x = web_search("a")\nfinal_answer(x)',
      format: 'python-fence',
      preface: 'Plan:\n1. search\n2. answer',
    })
  })

  it('accepts ```py and tolerates a missing closing fence at the end of the reply', () => {
    expect(extractProgram('Steps.\n```py\nprint(1)\nprint(2)\n').code).toBe('print(1)\nprint(2)')
  })

  it('reads GLM-4 style <code> tags, with or without a fence inside', () => {
    expect(extractProgram('I will add.\n<code>\nfinal_answer(1 + 1)\n</code>')).toEqual({
      code: 'final_answer(1 + 1)',
      format: 'code-tag',
      preface: 'I will add.',
    })
    expect(extractProgram('<code>```python\nprint("hi")\n```</code>').code).toBe('print("hi")')
    expect(extractProgram('<code>\nprint("cut off")').code).toBe('print("cut off")')
  })

  it('prefers whichever block comes first', () => {
    const got = extractProgram('<code>print("tag")</code>\n```python\nprint("fence")\n```')
    expect(got.format).toBe('code-tag')
    expect(got.code).toBe('print("tag")')
  })

  it('ignores fences of other languages and empty blocks', () => {
    expect(extractProgram('```json\n{"a": 1}\n```').format).toBe('none')
    expect(extractProgram('```python\n\n```').code).toBeNull()
    expect(extractProgram('The answer is 4.')).toEqual({ code: null, format: 'none', preface: 'The answer is 4.' })
  })

  it('removes indentation shared by the whole block', () => {
    expect(extractProgram('  ```python\n    for i in range(2):\n        print(i)\n  ```').code).toBe(
      'for i in range(2):\n    print(i)',
    )
  })
})
