import { z } from 'zod'
import type { SkillHandlerContext } from '../../src/skills/types'
import { LocalDocumentIndex } from './local-index'
import { configuredProviders, type SearchHit } from './providers'

/** `settings.web-search` in config/skills.yaml. */
export const settings = z.object({
  /** Files and folders (relative to the project root) the offline index covers. */
  documentFolders: z.array(z.string()).default(['docs', 'README.md']),
  fileExtensions: z.array(z.string()).default(['.md', '.markdown', '.txt', '.rst']),
  braveEndpoint: z.string().url().default('https://api.search.brave.com/res/v1/web/search'),
  tavilyEndpoint: z.string().url().default('https://api.tavily.com/search'),
})

const indexes = new Map<string, LocalDocumentIndex>()

function localIndex(rootDir: string, s: z.infer<typeof settings>): LocalDocumentIndex {
  const key = JSON.stringify([rootDir, s.documentFolders, s.fileExtensions])
  let index = indexes.get(key)
  if (!index) {
    index = new LocalDocumentIndex(rootDir, s.documentFolders, s.fileExtensions)
    indexes.set(key, index)
  }
  return index
}

/** Configured providers in order; a failing one hands over to the next. Without any, the local index answers. */
export default async function webSearch(
  args: { query: string; max_results: number },
  ctx: SkillHandlerContext,
): Promise<SearchHit[]> {
  const s = settings.parse(ctx.settings)
  const providers = configuredProviders(ctx.env as Record<string, string>, s)
  if (!providers.length) return localIndex(ctx.rootDir, s).search(args.query, args.max_results)
  const failures: string[] = []
  for (const provider of providers) {
    try {
      return await provider.search(args.query, args.max_results, ctx.signal)
    } catch (err) {
      if (ctx.signal.aborted) throw err
      failures.push(`${provider.name}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  throw new Error(`every search provider failed (${failures.join('; ')})`)
}
