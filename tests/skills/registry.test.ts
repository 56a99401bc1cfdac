import { symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SkillRegistry } from '../../src/skills/registry'
import { callSkill, manifest, ROOT, skillContext, tempDir, writeTree } from './helpers'

const echoSchema = `
parameters:
  type: object
  properties:
    text: { type: string, description: Text to echo }
    times: { type: integer, default: 1 }
  required: [text]
  additionalProperties: false`

const goodSkills = {
  'echo/SKILL.md': manifest(`name: echo\ndescription: Echo text back.\nreturns: str\n${echoSchema}`),
  'echo/handler.ts': `export default (args: { text: string; times: number }) => args.text.repeat(args.times)\n`,
  'zod-ref/SKILL.md': manifest(
    'name: zod-ref\ndescription: Parameters from the handler zod schema.\nparameters: handler.ts#params\nreturns: dict',
  ),
  'zod-ref/handler.ts': [
    "import { z } from 'zod'",
    'export const params = z.object({ city: z.string(), days: z.number().int().default(3) })',
    'export default (args: { city: string; days: number }) => ({ city: args.city, days: args.days })',
  ].join('\n'),
  'py-env/SKILL.md': manifest(
    `name: py-env\ndescription: Shows its environment.\nreturns: dict\nrequires:\n  env: [SKILL_TOKEN]\n${echoSchema}`,
  ),
  'py-env/handler.py': [
    'import os',
    'def handler(args, ctx):',
    '    print("noise on stdout must not break the protocol")',
    '    if args["text"] == "crash":',
    '        os._exit(7)',
    '    if args["text"] == "raise":',
    '        raise ValueError("bad text")',
    '    return {"env": sorted(k for k in os.environ if k.startswith(("SKILL_", "OTHER_"))),',
    '            "token": os.environ.get("SKILL_TOKEN"), "session": ctx["sessionId"], "pid": os.getpid()}',
  ].join('\n'),
  'py-slow/SKILL.md': manifest(`name: py-slow\ndescription: Sleeps when asked.\ntimeoutMs: 1500\n${echoSchema}`),
  'py-slow/handler.py': [
    'import os, time',
    'def handler(args, ctx):',
    '    if args["text"] == "sleep":',
    '        time.sleep(30)',
    '    return os.getpid()',
  ].join('\n'),
  'slow/SKILL.md': manifest(`name: slow\ndescription: Never finishes.\ntimeoutMs: 200\n${echoSchema}`),
  'slow/handler.ts': 'export default () => new Promise(() => {})\n',
}

const brokenSkills = {
  'bad-yaml/SKILL.md': '---\nname: bad-yaml\ndescription: [unclosed\n---\nbody\n',
  'bad-yaml/handler.ts': 'export default () => 1\n',
  'no-handler/SKILL.md': manifest(`name: no-handler\ndescription: Lacks a handler.\n${echoSchema}`),
  'wrong-name/SKILL.md': manifest(`name: other-name\ndescription: Name differs from folder.\n${echoSchema}`),
  'wrong-name/handler.ts': 'export default () => 1\n',
  'py-syntax/SKILL.md': manifest(`name: py-syntax\ndescription: Broken Python.\n${echoSchema}`),
  'py-syntax/handler.py': 'def handler(args, ctx)\n    return 1\n',
  'ts-throws/SKILL.md': manifest(`name: ts-throws\ndescription: Throws on import.\n${echoSchema}`),
  'ts-throws/handler.ts': "throw new Error('boom at import')\n",
  'needs-env/SKILL.md': manifest(
    `name: needs-env\ndescription: Needs a key.\nrequires:\n  env: [MISSING_KEY]\n${echoSchema}`,
  ),
  'needs-env/handler.ts': 'export default () => 1\n',
  'no-params/SKILL.md': manifest('name: no-params\ndescription: Lacks parameters.'),
  'no-params/handler.ts': 'export default () => 1\n',
}

describe('SkillRegistry with folder skills', () => {
  const dirs = tempDir('skills-registry')
  const workspace = tempDir('skills-ws')
  let registry: SkillRegistry

  beforeAll(async () => {
    writeTree(join(dirs.path, 'builtin'), goodSkills)
    writeTree(join(dirs.path, 'extra'), brokenSkills)
    // Handlers import packages; resolution walks up from the handler file.
    symlinkSync(join(ROOT, 'node_modules'), join(dirs.path, 'node_modules'))
    registry = await SkillRegistry.load({
      rootDir: dirs.path,
      builtinDir: join(dirs.path, 'builtin'),
      skillsConfig: { extraDirs: ['extra'], disabled: [], settings: {} },
      env: { SKILL_TOKEN: 'secret-1', OTHER_VAR: 'must-not-leak' },
    })
  })
  afterAll(async () => {
    await registry.close()
    dirs.cleanup()
    workspace.cleanup()
  })

  it('loads the good skills and describes them', () => {
    expect(registry.list().map((s) => s.name)).toEqual(['echo', 'py-env', 'py-slow', 'slow', 'zod-ref'])
    expect(registry.get('echo')?.signature).toBe('echo(text: str, times: int = 1) -> str')
    expect(registry.get('zod_ref')?.signature).toBe('zod_ref(city: str, days: int = 3) -> dict')
    expect(registry.get('py-env')?.kind).toBe('py')
  })

  it('rejects each broken skill with the file and the problem, keeping the rest', () => {
    const byName = Object.fromEntries(registry.loadErrors.map((e) => [e.skill, e]))
    const extra = join(dirs.path, 'extra')
    expect(byName['bad-yaml'].file).toBe(join(extra, 'bad-yaml', 'SKILL.md'))
    expect(byName['bad-yaml'].problem).toMatch(/front matter is not valid YAML/)
    expect(byName['no-handler']).toMatchObject({
      file: join(extra, 'no-handler'),
      problem: 'no handler.ts or handler.py',
    })
    expect(byName['other-name'].problem).toBe("name 'other-name' must match the folder name 'wrong-name'")
    expect(byName['py-syntax']).toMatchObject({
      file: join(extra, 'py-syntax', 'handler.py'),
      problem: "syntax error at line 1: expected ':'",
    })
    expect(byName['ts-throws'].problem).toMatch(/cannot load: boom at import/)
    expect(byName['needs-env'].problem).toBe('requires env MISSING_KEY, which is not set')
    expect(byName['no-params'].problem).toMatch(/^front matter: parameters:/)
    expect(registry.loadErrors).toHaveLength(7)
  })

  it('renders the catalog as Python stubs for the chosen skills only', () => {
    const text = registry.renderCatalog(['echo', 'zod-ref'])
    expect(text).toContain('def echo(text: str, times: int = 1) -> str:')
    expect(text).toContain('def zod_ref(city: str, days: int = 3) -> dict:')
    expect(text).not.toContain('py_env')
  })

  it('serves a JSON shape for GET /skills', () => {
    const json = JSON.parse(JSON.stringify(registry))
    expect(json.skills.map((s: { name: string }) => s.name)).toContain('echo')
    expect(json.loadErrors).toHaveLength(7)
  })

  it('runs a TS handler with validated, defaulted arguments', async () => {
    const ctx = skillContext(workspace.path)
    expect(await callSkill(registry, ctx, 'echo', ['ab'], { times: 3 })).toBe('ababab')
    expect(await callSkill(registry, ctx, 'zod_ref', ['Oslo'], {}, ['zod-ref'])).toEqual({ city: 'Oslo', days: 3 })
    await expect(callSkill(registry, ctx, 'echo', [], { text: 5 })).rejects.toThrow(
      "echo(): argument 'text' must be str, got int",
    )
  })

  it('refuses unknown skills and skills outside the allow-list', async () => {
    const ctx = skillContext(workspace.path)
    await expect(callSkill(registry, ctx, 'nope', [], {}, ['echo'])).rejects.toThrow('nope(): no such skill')
    await expect(callSkill(registry, ctx, 'echo', ['x'], {}, ['zod-ref'])).rejects.toThrow(
      'echo() is not available to this task (available: zod_ref)',
    )
  })

  it('enforces the per-skill time limit', async () => {
    const ctx = skillContext(workspace.path)
    await expect(callSkill(registry, ctx, 'slow', ['x'])).rejects.toMatchObject({
      code: 'skill_timeout',
      message: 'slow(): timed out after 200 ms',
    })
  })

  it('gives a Python handler only the env vars it declares, and reports its exceptions', async () => {
    const ctx = skillContext(workspace.path)
    const value = (await callSkill(registry, ctx, 'py_env', ['hi'], {}, ['py-env'])) as Record<string, unknown>
    expect(value).toMatchObject({ env: ['SKILL_TOKEN'], token: 'secret-1', session: 'session-1' })
    await expect(callSkill(registry, ctx, 'py-env', ['raise'])).rejects.toThrow('py_env(): ValueError: bad text')
  })

  it('restarts a crashed Python worker on the next call', async () => {
    const ctx = skillContext(workspace.path)
    const first = (await callSkill(registry, ctx, 'py-env', ['a'])) as { pid: number }
    await expect(callSkill(registry, ctx, 'py-env', ['crash'])).rejects.toThrow(
      /py_env\(\): Python worker exited \(code 7\)/,
    )
    const after = (await callSkill(registry, ctx, 'py-env', ['b'])) as { pid: number }
    expect(after.pid).not.toBe(first.pid)
  })

  it('replaces a Python worker whose call timed out', async () => {
    const ctx = skillContext(workspace.path)
    const before = await callSkill(registry, ctx, 'py-slow', ['pid'])
    await expect(callSkill(registry, ctx, 'py-slow', ['sleep'])).rejects.toThrow('py_slow(): timed out after 1500 ms')
    const after = await callSkill(registry, ctx, 'py-slow', ['pid'])
    expect(typeof after).toBe('number')
    expect(after).not.toBe(before)
  })

  it('selects skills per agent and per task', () => {
    expect(registry.select({ agent: ['echo', 'py_*'] }).names).toEqual(['echo', 'py-env', 'py-slow'])
    expect(registry.select({ agent: ['echo', 'py-env'], task: ['echo', 'slow', 'ghost'] })).toEqual({
      names: ['echo'],
      unknown: ['ghost'],
      notAllowed: ['slow'],
    })
    expect(registry.select({}).names).toHaveLength(5)
  })
})

describe('dev reload', () => {
  it('picks up an edited, an added and a broken skill while watching', async () => {
    const dir = tempDir('skills-watch')
    writeTree(dir.path, {
      'greet/SKILL.md': manifest(`name: greet\ndescription: Greets.\n${echoSchema}`),
      'greet/handler.ts': 'export default (a: { text: string }) => "hello " + a.text\n',
    })
    const registry = await SkillRegistry.load({ rootDir: dir.path, builtinDir: dir.path })
    const ctx = skillContext(dir.path)
    try {
      await registry.watch()
      expect(await callSkill(registry, ctx, 'greet', ['bob'])).toBe('hello bob')

      const reloaded = new Promise((done) => registry.onReload(done))
      writeFileSync(join(dir.path, 'greet/handler.ts'), 'export default (a: { text: string }) => "hi " + a.text\n')
      writeTree(dir.path, {
        'shout/SKILL.md': manifest(`name: shout\ndescription: Shouts.\n${echoSchema}`),
        'shout/handler.ts': 'export default (a: { text: string }) => a.text.toUpperCase()\n',
        'broken/SKILL.md': 'no front matter here',
      })
      await reloaded
      await expect.poll(() => registry.list().map((s) => s.name)).toEqual(['greet', 'shout'])
      expect(await callSkill(registry, ctx, 'greet', ['bob'])).toBe('hi bob')
      expect(await callSkill(registry, ctx, 'shout', ['bob'])).toBe('BOB')
      expect(registry.loadErrors.map((e) => e.file)).toEqual([join(dir.path, 'broken/SKILL.md')])
    } finally {
      await registry.close()
      dir.cleanup()
    }
  })
})
