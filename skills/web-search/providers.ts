export interface SearchHit {
  title: string
  url: string
  snippet: string
  provider: string
}

export interface ProviderEndpoints {
  braveEndpoint: string
  tavilyEndpoint: string
}

/** A configured web search provider, tried in the order SearXNG, Brave, Tavily. */
export interface SearchProvider {
  name: string
  search(query: string, maxResults: number, signal: AbortSignal): Promise<SearchHit[]>
}

/** fetch() says only "fetch failed"; the cause names the real problem (ECONNREFUSED, DNS, ...). */
export const fetchFailure = (err: unknown) => {
  const cause = (err as { cause?: { message?: string } }).cause?.message
  return cause ?? (err instanceof Error ? err.message : String(err))
}

async function getJson(url: string, init: RequestInit, provider: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, init).catch((err) => {
    if (init.signal?.aborted) throw err
    throw new Error(`${provider} unreachable: ${fetchFailure(err)}`)
  })
  if (!response.ok) throw new Error(`${provider} answered HTTP ${response.status}`)
  return (await response.json()) as Record<string, unknown>
}

type RawHit = { title?: unknown; url?: unknown; content?: unknown; description?: unknown }

const toHits = (raw: unknown, provider: string, maxResults: number): SearchHit[] =>
  (Array.isArray(raw) ? (raw as RawHit[]) : []).slice(0, maxResults).map((r) => ({
    title: String(r.title ?? ''),
    url: String(r.url ?? ''),
    snippet: String(r.content ?? r.description ?? ''),
    provider,
  }))

export function configuredProviders(env: Record<string, string>, endpoints: ProviderEndpoints): SearchProvider[] {
  const providers: SearchProvider[] = []
  if (env.SEARXNG_URL) {
    const base = env.SEARXNG_URL.replace(/\/+$/, '')
    providers.push({
      name: 'searxng',
      search: async (query, maxResults, signal) => {
        const url = `${base}/search?${new URLSearchParams({ q: query, format: 'json' })}`
        const body = await getJson(url, { signal, headers: { accept: 'application/json' } }, 'SearXNG')
        return toHits(body.results, 'searxng', maxResults)
      },
    })
  }
  if (env.BRAVE_API_KEY) {
    const key = env.BRAVE_API_KEY
    providers.push({
      name: 'brave',
      search: async (query, maxResults, signal) => {
        const url = `${endpoints.braveEndpoint}?${new URLSearchParams({ q: query, count: String(maxResults) })}`
        const headers = { accept: 'application/json', 'x-subscription-token': key }
        const body = await getJson(url, { signal, headers }, 'Brave')
        return toHits((body.web as { results?: unknown } | undefined)?.results, 'brave', maxResults)
      },
    })
  }
  if (env.TAVILY_API_KEY) {
    const key = env.TAVILY_API_KEY
    providers.push({
      name: 'tavily',
      search: async (query, maxResults, signal) => {
        const init = {
          method: 'POST',
          signal,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query, max_results: maxResults }),
        }
        const body = await getJson(endpoints.tavilyEndpoint, init, 'Tavily')
        return toHits(body.results, 'tavily', maxResults)
      },
    })
  }
  return providers
}
