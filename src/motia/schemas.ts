import { z } from 'zod'

const name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'only letters, digits and _ . : - are allowed')

/** Body of POST /agent/execute; the same schema validates requests and documents them in OpenAPI. */
export const executeRequestSchema = z
  .object({
    task: z.string().trim().min(1, 'task must not be empty').max(100_000),
    sessionId: name.optional(),
    availableSkills: z.array(z.string().min(1).max(128)).max(200).optional(),
    agent: name.optional(),
    sandbox: name.optional(),
    idempotencyKey: z.string().min(1).max(256).optional(),
  })
  .strict()

export type ExecuteRequest = z.infer<typeof executeRequestSchema>

export const executeResponseSchema = z.object({
  executionId: z.string(),
  sessionId: z.string(),
  status: z.literal('queued'),
})

export const executionStatusSchema = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled'])

export const listExecutionsQuerySchema = z.object({
  sessionId: name.optional(),
  status: executionStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
  cursor: z.string().max(256).optional(),
})

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
})
