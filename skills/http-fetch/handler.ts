import { convert } from 'html-to-text'
import { z } from 'zod'
import type { SkillHandlerContext } from '../../src/skills/types'

/** `settings.http-fetch` in config/skills.yaml. */
export const settings = z.object({
  /** Hosts that may be fetched: `example.org`, `*.example.org` (subdomains), `127.0.0.1:8080` (one port). */
  allowHosts: z.array(z.string().min(1)).default([]),
  maxRedirects: z.number().int().min(0).default(5),
  userAgent: z.string().default('motia-agent-system http-fetch'),
})

function isAllowed(url: URL, allowHosts: string[]): boolean {
  const host = url.hostname.toLowerCase()
  return allowHosts.some((entry) => {
    const pattern = entry.toLowerCase()
    if (pattern.includes(':') && !pattern.startsWith('[')) return pattern === url.host.toLowerCase()
    if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1))
    return host === pattern
  })
}

function checkUrl(raw: string, allowHosts: string[]): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new Error(`'${raw}' is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`only http and https URLs, got ${url.protocol}`)
  if (!allowHosts.length)
    throw new Error(`host '${url.host}' is not allowed: the allow-list (settings.http-fetch.allowHosts) is empty`)
  if (!isAllowed(url, allowHosts))
    throw new Error(`host '${url.host}' is not on the allow-list (${allowHosts.join(', ')})`)
  return url
}

/** Options for html-to-text; links become absolute so the program can fetch them next. */
const htmlOptions = (baseUrl: string) => ({
  wordwrap: false as const,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'nav', format: 'skip' },
    { selector: 'footer', format: 'skip' },
    { selector: 'a', options: { baseUrl, hideLinkHrefIfSameAsText: true } },
  ],
})

/** Fetches an allowed URL, following redirects only to allowed hosts, and returns readable text. */
export default async function httpFetch(
  args: { url: string; max_chars: number },
  ctx: SkillHandlerContext,
): Promise<string> {
  const s = settings.parse(ctx.settings)
  let url = checkUrl(args.url, s.allowHosts)
  let response: Response
  for (let hop = 0; ; hop++) {
    response = await fetch(url, { redirect: 'manual', signal: ctx.signal, headers: { 'user-agent': s.userAgent } }).catch(
      (err) => {
        if (ctx.signal.aborted) throw err
        const cause = (err as { cause?: { message?: string } }).cause?.message
        throw new Error(`cannot reach ${url.host}: ${cause ?? (err as Error).message}`)
      },
    )
    const location = response.headers.get('location')
    if (response.status < 300 || response.status >= 400 || !location) break
    if (hop >= s.maxRedirects) throw new Error(`more than ${s.maxRedirects} redirects`)
    url = checkUrl(new URL(location, url).toString(), s.allowHosts)
  }
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`)
  const type = response.headers.get('content-type') ?? ''
  const body = await response.text()
  let text: string
  if (/html/i.test(type)) text = convert(body, htmlOptions(url.origin)).trim()
  else if (/^text\/|json|xml/i.test(type) || !type) text = body
  else throw new Error(`${url} is ${type}, not text`)
  if (text.length <= args.max_chars) return text
  return `${text.slice(0, args.max_chars)}\n[truncated: ${text.length - args.max_chars} more characters]`
}
