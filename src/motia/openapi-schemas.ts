import { z } from 'zod'
import type { AgentStep, ExecutionRecord } from '../agent/types'
import { executionStatusSchema } from './schemas'

/**
 * Response shapes for the OpenAPI document. Typed against the agent layer's record types, so a
 * change there that the document does not follow fails `tsc`. Objects are loose: the API may add fields.
 */

const skillCallRecordSchema = z.looseObject({
  id: z.string(),
  skill: z.string(),
  args: z.array(z.unknown()),
  kwargs: z.record(z.string(), z.unknown()),
  ok: z.boolean(),
  resultBytes: z.number().int(),
  resultPreview: z.string().optional(),
  error: z.string().optional(),
  startedAt: z.string(),
  durationMs: z.number(),
})

const stepBase = {
  index: z.number().int(),
  startedAt: z.string(),
  durationMs: z.number(),
  agent: z.string(),
}

export const agentStepSchema: z.ZodType<AgentStep> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.looseObject({ ...stepBase, type: z.literal('plan'), plan: z.string() }),
    z.looseObject({
      ...stepBase,
      type: z.literal('llm_call'),
      provider: z.string(),
      model: z.string(),
      usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() }),
      reply: z.string(),
    }),
    z.looseObject({ ...stepBase, type: z.literal('code'), code: z.string(), format: z.string() }),
    z.looseObject({
      ...stepBase,
      type: z.literal('execution'),
      ok: z.boolean(),
      stdout: z.string(),
      stderr: z.string(),
      error: z.object({ type: z.string(), message: z.string(), traceback: z.string() }).optional(),
      hasFinalAnswer: z.boolean(),
      isolation: z.string().optional(),
    }),
    z.looseObject({ ...stepBase, type: z.literal('skill_call'), call: skillCallRecordSchema }),
    z.looseObject({
      ...stepBase,
      type: z.literal('delegation'),
      subagent: z.string(),
      task: z.string(),
      status: executionStatusSchema,
      result: z.string().optional(),
      error: z.string().optional(),
      steps: z.array(agentStepSchema),
      delegationId: z.string().optional(),
    }),
    z.looseObject({ ...stepBase, type: z.literal('final'), answer: z.string() }),
  ]),
)

export const executionRecordSchema: z.ZodType<ExecutionRecord> = z.looseObject({
  executionId: z.string(),
  sessionId: z.string(),
  agent: z.string(),
  status: executionStatusSchema,
  task: z.string(),
  result: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  steps: z.array(agentStepSchema),
  skillCalls: z.array(skillCallRecordSchema),
  usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int(), llmCalls: z.number().int() }),
  timings: z.looseObject({
    queuedMs: z.number().optional(),
    totalMs: z.number().optional(),
    llmMs: z.number(),
    sandboxMs: z.number(),
  }),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().nullable(),
})

export const executionListSchema = z.object({
  items: z.array(executionRecordSchema),
  nextCursor: z.string().nullable().optional(),
})

export const cancelResponseSchema = z.object({
  executionId: z.string(),
  status: z.enum(['cancelled', 'cancelling']),
})

export const sessionSchema = z.looseObject({
  sessionId: z.string(),
  turns: z.array(z.looseObject({})),
  executionIds: z.array(z.string()),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
})

export const sessionDeletedSchema = z.object({
  sessionId: z.string(),
  deleted: z.literal(true),
  executionsDeleted: z.number().int(),
})

export const skillCatalogSchema = z.looseObject({
  skills: z.array(
    z.looseObject({
      name: z.string(),
      pythonName: z.string(),
      description: z.string(),
      signature: z.string().optional(),
      parameters: z.unknown().optional(),
      returns: z.unknown().optional(),
      kind: z.string().optional(),
      timeoutMs: z.number().optional(),
    }),
  ),
  loadErrors: z.array(z.unknown()),
  agents: z.array(z.looseObject({ name: z.string() })),
})

export const healthSchema = z.looseObject({
  status: z.literal('ok'),
  instance: z.string().nullable().optional(),
  uptimeSeconds: z.number(),
})

export const readySchema = z.looseObject({
  status: z.enum(['ready', 'unready']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string() })),
})
