import type { IncomingHttpHeaders } from 'node:http'
import type { FakeApi, FakeLlmRequest } from './types'

type Json = Record<string, unknown>

/** Text of a message content: a plain string or an array of `{ type: 'text', text }` parts (both vendors). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .map((part) => (part && typeof part === 'object' && typeof part.text === 'string' ? part.text : ''))
    .join('')
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

/** Normalises an OpenAI chat request or an Anthropic messages request into one recorded shape. */
export function toFakeRequest(api: FakeApi, body: Json, headers: IncomingHttpHeaders): FakeLlmRequest {
  const rawMessages = Array.isArray(body.messages) ? (body.messages as Json[]) : []
  const all = rawMessages.map((m) => ({ role: String(m.role), content: contentText(m.content) }))
  const systemParts =
    api === 'openai'
      ? all.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.content)
      : [contentText(body.system)].filter(Boolean)
  const messages = all.filter((m) => m.role !== 'system' && m.role !== 'developer')
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')
  return {
    api,
    model: String(body.model ?? ''),
    stream: body.stream === true,
    system: systemParts.join('\n'),
    messages,
    lastUserMessage: lastUser?.content ?? '',
    rawBody: body,
    headers: flatHeaders(headers),
  }
}

/** Stop sequences of either wire format. */
export function stopSequences(api: FakeApi, body: Json): string[] {
  const raw = api === 'openai' ? body.stop : body.stop_sequences
  if (typeof raw === 'string') return [raw]
  return Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : []
}

/** Deterministic token estimate: whitespace-separated words. Tests compute the same figure. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length
}

/** Input "tokens" of a request: words of the system prompt and of every message. */
export function inputWords(req: FakeLlmRequest): number {
  return countWords(req.system) + req.messages.reduce((n, m) => n + countWords(m.content), 0)
}
