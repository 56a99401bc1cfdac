/**
 * Runs the fake LLM server on its own, for benchmarks and suites in another process:
 *   npx tsx tests/fake-llm/cli.ts --port 4010 [--script file.yaml]
 * The script is a YAML list of `{ match?: regex, reply: FakeReply }` (see src/llm/script.ts for the order);
 * replies can also be queued over HTTP with POST /_fake/replies.
 */
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { loadYamlFile } from '../../src/config/yaml-file'
import { createScriptPicker, matchPattern } from '../../src/llm/script'
import { type FakeResponder, startFakeLlmServer } from './server'

const usage = z.object({ inputTokens: z.number().int().min(0), outputTokens: z.number().int().min(0) })
const reply = z.union([
  z.string(),
  z.object({
    text: z.string().optional(),
    status: z.number().int().min(200).max(599).optional(),
    errorBody: z.unknown().optional(),
    delayMs: z.number().int().min(0).optional(),
    chunkDelayMs: z.number().int().min(0).optional(),
    usage: usage.optional(),
    headers: z.record(z.string(), z.string()).optional(),
  }),
])
const scriptSchema = z.array(z.object({ match: matchPattern.optional(), reply }))

const { values } = parseArgs({
  options: { port: { type: 'string', default: '4010' }, script: { type: 'string' } },
})

let responder: FakeResponder | undefined
if (values.script) {
  const pick = createScriptPicker(loadYamlFile(values.script, scriptSchema))
  responder = (req) =>
    pick(req.lastUserMessage)?.reply ?? { status: 400, text: `no script entry matches: ${req.lastUserMessage}` }
}

const server = await startFakeLlmServer({ port: Number(values.port), responder })
console.log(`fake LLM server listening on ${server.url} (OpenAI and Anthropic base URL ${server.openaiBaseUrl})`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close().then(() => process.exit(0))
  })
}
