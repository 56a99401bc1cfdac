import { existsSync, readdirSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { type FSWatcher, watch } from 'chokidar'
import type { LlmClient } from '../llm/types'
import type { SkillInvoker } from '../sandbox/types'
import type { McpConfig, SkillsConfig } from './config'
import { loadSkillFolder } from './folder-loader'
import { createSkillInvoker } from './invoker'
import type { LoadedSkill } from './loaded-skill'
import { connectMcpServers, type McpConnection } from './mcp'
import { checkPythonHandlers } from './python-worker'
import { renderCatalogText } from './render'
import { type ResolvedSkills, resolveSkillNames, type SkillSelection } from './selection'
import type { SkillCatalog, SkillContext, SkillInfo, SkillLoadError } from './types'

export interface SkillRegistryOptions {
  /** Project root: relative folders and settings paths resolve against it. */
  rootDir: string
  /** Built-in skills folder; default `<rootDir>/skills`. */
  builtinDir?: string
  skillsConfig?: SkillsConfig
  mcpConfig?: McpConfig
  /** Named in load errors of MCP servers. */
  mcpConfigFile?: string
  /** Environment values; a skill's handler sees only the variables its SKILL.md declares. */
  env?: Record<string, string | undefined>
  /** LLM for skills that need one, when the caller's context brings none. */
  llm?: LlmClient
  /** Interpreter for `handler.py` workers. */
  pythonPath?: string
}

const RELOAD_DEBOUNCE_MS = 150

/** Discovers skills from folders and MCP servers, renders the catalog and executes calls. */
export class SkillRegistry implements SkillCatalog {
  private folderSkills = new Map<string, LoadedSkill>()
  private folderErrors: SkillLoadError[] = []
  private mcpSkills = new Map<string, LoadedSkill>()
  private mcpErrors: SkillLoadError[] = []
  private mcpConnections: McpConnection[] = []
  private watcher?: FSWatcher
  private reloadListeners = new Set<(errors: SkillLoadError[]) => void>()
  private reloading: Promise<void> = Promise.resolve()

  private constructor(private readonly options: SkillRegistryOptions) {}

  static async load(options: SkillRegistryOptions): Promise<SkillRegistry> {
    const registry = new SkillRegistry(options)
    await Promise.all([registry.reloadFolders(), registry.connectMcp()])
    return registry
  }

  /** Skills that were rejected, each with the file at fault and the problem. */
  get loadErrors(): SkillLoadError[] {
    return [...this.folderErrors, ...this.mcpErrors]
  }

  /** Skill folders are searched in these directories, built-in first. */
  get skillDirs(): string[] {
    const { rootDir, builtinDir, skillsConfig } = this.options
    const extra = (skillsConfig?.extraDirs ?? []).map((d) => (isAbsolute(d) ? d : resolve(rootDir, d)))
    return [builtinDir ?? join(rootDir, 'skills'), ...extra]
  }

  list(names?: string[]): SkillInfo[] {
    if (names) return names.flatMap((n) => this.find(n)?.info ?? [])
    return [...this.all().values()].map((s) => s.info).sort((a, b) => a.name.localeCompare(b.name))
  }

  get(name: string): SkillInfo | undefined {
    return this.find(name)?.info
  }

  renderCatalog(names: string[]): string {
    return renderCatalogText(this.list(names))
  }

  createInvoker(context: SkillContext, allowed: string[]): SkillInvoker {
    return createSkillInvoker(
      { lookup: (name) => this.find(name), rootDir: this.options.rootDir, llm: this.options.llm },
      context,
      allowed,
    )
  }

  /** The skills an agent may use for one task: agent list ∩ task list; `*` globs allowed in both. */
  select(selection: SkillSelection): ResolvedSkills {
    return resolveSkillNames(
      this.list().map((s) => ({ name: s.name, pythonName: s.pythonName })),
      selection,
    )
  }

  /** What `GET /skills` serves. */
  toJSON(): { skills: SkillInfo[]; loadErrors: SkillLoadError[] } {
    return { skills: this.list(), loadErrors: this.loadErrors }
  }

  /** Called after every reload triggered by `watch()`, with the load errors of that reload. */
  onReload(listener: (errors: SkillLoadError[]) => void): () => void {
    this.reloadListeners.add(listener)
    return () => this.reloadListeners.delete(listener)
  }

  /** Dev mode: reloads folder skills when a file under a skill folder changes. */
  async watch(): Promise<void> {
    if (this.watcher) return
    const dirs = this.skillDirs.filter((d) => existsSync(d))
    let timer: NodeJS.Timeout | undefined
    const schedule = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        this.reloading = this.reloading.then(async () => {
          await this.reloadFolders()
          for (const listener of this.reloadListeners) listener(this.loadErrors)
        })
      }, RELOAD_DEBOUNCE_MS)
    }
    this.watcher = watch(dirs, {
      ignoreInitial: true,
      ignored: (p) => /(^|\/)(node_modules|__pycache__)(\/|$)/.test(p),
    })
    this.watcher.on('all', schedule)
    await new Promise<void>((done) => this.watcher?.once('ready', () => done()))
  }

  /** Stops the watcher, the Python workers and the MCP clients. */
  async close(): Promise<void> {
    await this.watcher?.close()
    this.watcher = undefined
    await this.reloading
    for (const skill of this.all().values()) await skill.close()
    await Promise.all(this.mcpConnections.map((c) => c.client.close().catch(() => {})))
    this.mcpConnections = []
    this.mcpSkills.clear()
    this.folderSkills.clear()
  }

  /** Re-reads every skill folder; skills that are unchanged get fresh handlers too. */
  async reloadFolders(): Promise<void> {
    const { skillsConfig, env = {}, pythonPath = '/usr/bin/python3' } = this.options
    const disabled = new Set(skillsConfig?.disabled ?? [])
    const folders = this.skillDirs.flatMap(listSkillFolders).filter((f) => !disabled.has(f.split('/').pop() ?? ''))
    const pythonProblems = await checkPythonHandlers(
      pythonPath,
      folders.map((f) => join(f, 'handler.py')).filter((f) => existsSync(f)),
    )
    const skills = new Map<string, LoadedSkill>()
    const errors: SkillLoadError[] = []
    for (const folder of folders) {
      const name = folder.split('/').pop() ?? folder
      const settings = skillsConfig?.settings[name] ?? {}
      const result = await loadSkillFolder(folder, { env, settings, pythonPath, pythonProblems })
      if (!result.ok) errors.push(result.error)
      else if (skills.has(result.skill.info.name)) {
        const first = skills.get(result.skill.info.name)?.dir
        errors.push({ skill: name, file: folder, problem: `duplicate skill name; already loaded from ${first}` })
      } else skills.set(result.skill.info.name, result.skill)
    }
    const previous = this.folderSkills
    this.folderSkills = skills
    this.folderErrors = errors
    for (const skill of previous.values()) await skill.close()
  }

  private async connectMcp(): Promise<void> {
    const { mcpConfig, mcpConfigFile = 'config/mcp.json', rootDir, env = {} } = this.options
    if (!mcpConfig) return
    const result = await connectMcpServers(mcpConfig, { configFile: mcpConfigFile, rootDir, env })
    this.mcpConnections = result.connections
    this.mcpErrors = result.errors
    for (const skill of result.connections.flatMap((c) => c.skills)) this.mcpSkills.set(skill.info.name, skill)
  }

  private all(): Map<string, LoadedSkill> {
    // No clash is possible: folder names cannot contain `__`, MCP skill names always do.
    return new Map([...this.mcpSkills, ...this.folderSkills])
  }

  private find(name: string): LoadedSkill | undefined {
    const all = this.all()
    const direct = all.get(name)
    if (direct) return direct
    for (const skill of all.values()) if (skill.info.pythonName === name) return skill
    return undefined
  }
}

/** Sub-folders that look like skills (hold SKILL.md or a handler); `_`/`.` folders are helpers. */
function listSkillFolders(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !/^[._]/.test(e.name))
    .map((e) => join(dir, e.name))
    .filter((f) => ['SKILL.md', 'handler.ts', 'handler.py'].some((file) => existsSync(join(f, file))))
    .sort()
}
