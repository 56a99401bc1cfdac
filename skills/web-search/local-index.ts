import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join, relative, resolve } from 'node:path'
import MiniSearch from 'minisearch'
import type { SearchHit } from './providers'

interface Section {
  id: number
  title: string
  url: string
  text: string
}

const SNIPPET_CHARS = 240
const SKIP_DIRS = new Set(['node_modules', '.git', '.motia', 'workspace'])

function walk(path: string, extensions: Set<string>, out: string[]): void {
  let stat: ReturnType<typeof statSync>
  try {
    stat = statSync(path)
  } catch {
    return
  }
  if (stat.isFile()) {
    if (extensions.has(extname(path).toLowerCase())) out.push(path)
    return
  }
  if (!stat.isDirectory()) return
  for (const entry of readdirSync(path)) if (!SKIP_DIRS.has(entry)) walk(join(path, entry), extensions, out)
}

const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .trim()
    .replace(/\s+/g, '-')

/** Markdown is split at headings so that a hit points at a section, not at a whole file. */
function sections(file: string, rootDir: string, firstId: number): Section[] {
  const path = relative(rootDir, file).split('\\').join('/')
  const out: Section[] = []
  let title = path
  let anchor = ''
  let lines: string[] = []
  const flush = () => {
    const text = lines.join('\n').trim()
    if (text) out.push({ id: firstId + out.length, title, url: `${path}${anchor}`, text })
    lines = []
  }
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const heading = /^#{1,6}\s+(.+?)\s*#*$/.exec(line)
    if (heading) {
      flush()
      title = `${path} › ${heading[1]}`
      anchor = `#${slug(heading[1])}`
    } else lines.push(line)
  }
  flush()
  return out
}

function snippet(text: string, terms: string[]): string {
  const flat = text.replace(/\s+/g, ' ')
  const lower = flat.toLowerCase()
  const at = Math.min(...terms.map((t) => lower.indexOf(t.toLowerCase())).filter((i) => i >= 0), flat.length)
  const start = at === flat.length ? 0 : Math.max(0, at - 60)
  const cut = flat.slice(start, start + SNIPPET_CHARS)
  return `${start > 0 ? '…' : ''}${cut}${start + SNIPPET_CHARS < flat.length ? '…' : ''}`
}

/**
 * Offline search over local documents with MiniSearch (BM25 ranking). The index is rebuilt when a
 * file is added, removed or modified, checked by path and mtime on each search.
 */
export class LocalDocumentIndex {
  private fingerprint = ''
  private index?: MiniSearch<Section>

  constructor(
    private readonly rootDir: string,
    private readonly folders: string[],
    private readonly extensions: string[],
  ) {}

  search(query: string, maxResults: number): SearchHit[] {
    const index = this.current()
    const results = index.search(query, { prefix: true, fuzzy: 0.2, combineWith: 'OR', boost: { title: 2 } })
    return results.slice(0, maxResults).map((r) => ({
      title: r.title as string,
      url: r.url as string,
      snippet: snippet(r.text as string, r.terms),
      provider: 'local-index',
    }))
  }

  private current(): MiniSearch<Section> {
    const files: string[] = []
    const extensions = new Set(this.extensions.map((e) => e.toLowerCase()))
    for (const folder of this.folders) walk(resolve(this.rootDir, folder), extensions, files)
    const fingerprint = files.map((f) => `${f}:${statSync(f).mtimeMs}`).join('|')
    if (this.index && fingerprint === this.fingerprint) return this.index
    const index = new MiniSearch<Section>({ fields: ['title', 'text'], storeFields: ['title', 'url', 'text'] })
    let nextId = 0
    for (const file of files) {
      const docs = sections(file, this.rootDir, nextId)
      nextId += docs.length
      index.addAll(docs)
    }
    this.index = index
    this.fingerprint = fingerprint
    return index
  }
}
