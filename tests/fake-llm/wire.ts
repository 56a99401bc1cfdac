import type { FakeApi, ResolvedReply } from './types'

/** Word-sized chunks that keep their whitespace, so the deltas join back into the exact text. */
export function textChunks(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : [])
}

const sse = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`

let counter = 0
const nextId = (prefix: string) => `${prefix}${(++counter).toString().padStart(6, '0')}`

// --- OpenAI Chat Completions -----------------------------------------------------------------------

const OPENAI_ERRORS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request.' },
  503: { type: 'server_error', code: null, message: 'The server is overloaded or not ready yet.' },
}

function openaiError(status: number, message?: string) {
  const known = OPENAI_ERRORS[status] ?? OPENAI_ERRORS[status >= 500 ? 500 : 400]
  return { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } }
}

function openaiUsage(reply: ResolvedReply) {
  const { inputTokens, outputTokens } = reply.usage
  return { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens }
}

function openaiCompletion(model: string, reply: ResolvedReply) {
  return {
    id: nextId('chatcmpl-fake'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.text, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: openaiUsage(reply),
    system_fingerprint: null,
  }
}

function openaiStream(model: string, reply: ResolvedReply, includeUsage: boolean): string[] {
  const id = nextId('chatcmpl-fake')
  const created = Math.floor(Date.now() / 1000)
  const usageField = includeUsage ? { usage: null } : {}
  const chunk = (delta: object, finish: string | null) =>
    sse({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...usageField,
    })
  const frames = [chunk({ role: 'assistant', content: '', refusal: null }, null)]
  for (const piece of textChunks(reply.text)) frames.push(chunk({ content: piece }, null))
  frames.push(chunk({}, 'stop'))
  if (includeUsage) {
    frames.push(sse({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: openaiUsage(reply) }))
  }
  frames.push('data: [DONE]\n\n')
  return frames
}

// --- Anthropic Messages ----------------------------------------------------------------------------

const ANTHROPIC_ERRORS: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request.' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  404: { type: 'not_found_error', message: 'model not found' },
  429: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit.' },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
}

function anthropicError(status: number, message?: string) {
  const known = ANTHROPIC_ERRORS[status] ?? ANTHROPIC_ERRORS[status >= 500 ? 500 : 400]
  return { type: 'error', error: { type: known.type, message: message ?? known.message } }
}

const stopReason = (reply: ResolvedReply) => (reply.finishReason === 'stop_sequence' ? 'stop_sequence' : 'end_turn')

function anthropicMessage(model: string, reply: ResolvedReply) {
  return {
    id: nextId('msg_fake'),
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: reply.text }],
    stop_reason: stopReason(reply),
    stop_sequence: reply.stopSequence,
    usage: { input_tokens: reply.usage.inputTokens, output_tokens: reply.usage.outputTokens },
  }
}

function anthropicStream(model: string, reply: ResolvedReply): string[] {
  const message = {
    id: nextId('msg_fake'),
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: reply.usage.inputTokens, output_tokens: 1 },
  }
  const frames = [
    sse({ type: 'message_start', message }, 'message_start'),
    sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start'),
    sse({ type: 'ping' }, 'ping'),
  ]
  for (const piece of textChunks(reply.text)) {
    frames.push(
      sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }, 'content_block_delta'),
    )
  }
  frames.push(
    sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
    sse(
      {
        type: 'message_delta',
        delta: { stop_reason: stopReason(reply), stop_sequence: reply.stopSequence },
        usage: { output_tokens: reply.usage.outputTokens },
      },
      'message_delta',
    ),
    sse({ type: 'message_stop' }, 'message_stop'),
  )
  return frames
}

// --- Dispatch --------------------------------------------------------------------------------------

export function errorBodyFor(api: FakeApi, status: number, message?: string): unknown {
  return api === 'openai' ? openaiError(status, message) : anthropicError(status, message)
}

export function completionBody(api: FakeApi, model: string, reply: ResolvedReply): unknown {
  return api === 'openai' ? openaiCompletion(model, reply) : anthropicMessage(model, reply)
}

export function streamFrames(api: FakeApi, model: string, reply: ResolvedReply, includeUsage: boolean): string[] {
  return api === 'openai' ? openaiStream(model, reply, includeUsage) : anthropicStream(model, reply)
}
