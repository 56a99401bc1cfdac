import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import type { ExecutionRecord } from '../../src/agent/types'
import { buildOpenApiDocument } from '../../src/motia/openapi'
import { executionRecordSchema } from '../../src/motia/openapi-schemas'

type Doc = {
  openapi: string
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[]
        parameters?: { name: string }[]
        responses: Record<string, unknown>
        requestBody?: unknown
      }
    >
  >
  components: {
    schemas: Record<
      string,
      { properties?: Record<string, unknown>; required?: string[]; additionalProperties?: unknown }
    >
    securitySchemes: Record<string, unknown>
  }
  security: unknown[]
}

const doc = buildOpenApiDocument() as Doc

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator()
    const result = await validator.validate(structuredClone(doc) as Record<string, unknown>)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('describes every route of the API', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(operations.sort()).toEqual(
      [
        'POST /agent/execute',
        'GET /agent/executions',
        'GET /agent/executions/{id}',
        'GET /agent/executions/{id}/events',
        'POST /agent/executions/{id}/cancel',
        'GET /agent/sessions/{id}',
        'DELETE /agent/sessions/{id}',
        'GET /skills',
        'GET /health',
        'GET /ready',
        'GET /metrics',
        'GET /openapi.json',
      ].sort(),
    )
    expect(Object.keys(doc.paths['/agent/executions/{id}/events'].get.responses['200'] as object)).toContain('content')
    expect(JSON.stringify(doc.paths['/agent/executions/{id}/events'].get.responses['200'])).toContain(
      'text/event-stream',
    )
  })

  it('generates the request body from the zod schema that validates it', () => {
    const request = doc.components.schemas.ExecuteRequest
    expect(Object.keys(request.properties ?? {}).sort()).toEqual(
      ['agent', 'availableSkills', 'idempotencyKey', 'sandbox', 'sessionId', 'task'].sort(),
    )
    expect(request.required).toEqual(['task'])
    expect(request.additionalProperties).toBe(false)
    expect(request.properties?.task).toMatchObject({ type: 'string', minLength: 1, maxLength: 100_000 })
    expect(doc.paths['/agent/executions'].get.parameters?.map((p) => p.name)).toEqual([
      'sessionId',
      'status',
      'limit',
      'cursor',
    ])
  })

  it('declares bearer and x-api-key security, with health, readiness, metrics and the document itself open', () => {
    expect(doc.components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer' },
      apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
    })
    expect(doc.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }])
    for (const path of ['/health', '/ready', '/metrics', '/openapi.json'])
      expect(doc.paths[path].get.security).toEqual([])
    expect(doc.paths['/agent/execute'].post.security).toBeUndefined()
    expect(Object.keys(doc.paths['/agent/execute'].post.responses)).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '413', '429']),
    )
  })

  it('describes records the way the API returns them, nested subagent steps included', () => {
    const record: ExecutionRecord = {
      executionId: 'e1',
      sessionId: 's1',
      agent: 'master',
      status: 'completed',
      task: 't',
      result: '42',
      error: null,
      steps: [
        {
          type: 'delegation',
          index: 0,
          startedAt: 'now',
          durationMs: 1,
          agent: 'master',
          subagent: 'researcher',
          task: 'sub',
          status: 'completed',
          steps: [{ type: 'final', index: 0, startedAt: 'now', durationMs: 0, agent: 'researcher', answer: '42' }],
        },
      ],
      skillCalls: [],
      usage: { inputTokens: 1, outputTokens: 1, llmCalls: 1 },
      timings: { llmMs: 1, sandboxMs: 1 },
      createdAt: 'now',
      finishedAt: 'now',
    }
    expect(executionRecordSchema.safeParse({ ...record, sandbox: 'local' }).success).toBe(true)
    const broken = { ...record, steps: [{ ...record.steps[0], steps: [{ type: 'final', index: 0 }] }] }
    expect(executionRecordSchema.safeParse(broken).success).toBe(false)
    expect(JSON.stringify(doc.components.schemas.AgentStep)).toContain('"$ref":"#/components/schemas/AgentStep"')
  })
})
