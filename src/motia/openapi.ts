import { z } from 'zod'
import {
  agentStepSchema,
  cancelResponseSchema,
  executionListSchema,
  executionRecordSchema,
  healthSchema,
  readySchema,
  sessionDeletedSchema,
  sessionSchema,
  skillCatalogSchema,
} from './openapi-schemas'
import { executeRequestSchema, executeResponseSchema, listExecutionsQuerySchema, problemSchema } from './schemas'

type JsonObject = Record<string, unknown>

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

/** Component schemas from the zod schemas that validate requests (`io: input`) and describe responses. */
function componentSchemas(): Record<string, JsonObject> {
  const requests = z.registry<{ id: string }>()
  requests.add(executeRequestSchema, { id: 'ExecuteRequest' })
  const responses = z.registry<{ id: string }>()
  const named: [z.ZodType, string][] = [
    [executeResponseSchema, 'ExecuteResponse'],
    [agentStepSchema, 'AgentStep'],
    [executionRecordSchema, 'ExecutionRecord'],
    [executionListSchema, 'ExecutionList'],
    [cancelResponseSchema, 'CancelResponse'],
    [sessionSchema, 'Session'],
    [sessionDeletedSchema, 'SessionDeleted'],
    [skillCatalogSchema, 'SkillCatalog'],
    [healthSchema, 'Health'],
    [readySchema, 'Ready'],
    [problemSchema, 'Problem'],
  ]
  for (const [schema, id] of named) responses.add(schema, { id })
  const uri = (id: string) => `#/components/schemas/${id}`
  const generated = {
    ...z.toJSONSchema(requests, { io: 'input', uri }).schemas,
    ...z.toJSONSchema(responses, { io: 'output', uri }).schemas,
  }
  // Components live inside the document: their own `$schema` is redundant and a fragment `$id` is invalid.
  return Object.fromEntries(
    Object.entries(generated).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema as JsonObject]),
  )
}

/** `GET /agent/executions` query parameters, from the schema the route validates them with. */
function listQueryParameters(): JsonObject[] {
  const schema = z.toJSONSchema(listExecutionsQuerySchema, { io: 'input' }) as {
    properties: Record<string, JsonObject>
    required?: string[]
  }
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    schema: property,
  }))
}

const problemContent = { 'application/problem+json': { schema: ref('Problem') } }
const problemResponse = (description: string, headers?: JsonObject) => ({
  description,
  content: problemContent,
  ...(headers && { headers }),
})
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } }

const commonResponses = {
  BadRequest: problemResponse('Invalid request; `errors` names each bad field'),
  Unauthorized: problemResponse('Missing or invalid API key', {
    'WWW-Authenticate': { schema: { type: 'string' } },
  }),
  Forbidden: problemResponse('The API key may not use the requested agent or skills'),
  NotFound: problemResponse('No such resource, or it belongs to another API key'),
  PayloadTooLarge: problemResponse('Request body above MAX_BODY_BYTES'),
  TooManyRequests: problemResponse('Rate limit or running-task budget exceeded', retryAfter),
  Timeout: problemResponse('The request did not complete within REQUEST_TIMEOUT_MS'),
}

const responseRef = (name: keyof typeof commonResponses) => ({ $ref: `#/components/responses/${name}` })
const json = (schema: JsonObject, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})
/** What every authenticated route may answer besides its own responses. */
const guardedResponses = {
  '401': responseRef('Unauthorized'),
  '429': responseRef('TooManyRequests'),
  '503': responseRef('Timeout'),
}
const idParameter = (what: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: what,
})
const open = { security: [] }

function paths(): JsonObject {
  return {
    '/agent/execute': {
      post: {
        operationId: 'executeTask',
        summary: 'Queue a task for the agent',
        requestBody: { required: true, content: { 'application/json': { schema: ref('ExecuteRequest') } } },
        responses: {
          '202': json(ref('ExecuteResponse'), 'Queued (or the execution already created with this idempotencyKey)'),
          '400': responseRef('BadRequest'),
          '403': responseRef('Forbidden'),
          '404': problemResponse('Unknown agent, or a session of another API key'),
          '413': responseRef('PayloadTooLarge'),
          ...guardedResponses,
        },
      },
    },
    '/agent/executions': {
      get: {
        operationId: 'listExecutions',
        summary: "The caller's executions, newest first",
        parameters: listQueryParameters(),
        responses: {
          '200': json(ref('ExecutionList'), 'A page of executions'),
          '400': responseRef('BadRequest'),
          ...guardedResponses,
        },
      },
    },
    '/agent/executions/{id}': {
      get: {
        operationId: 'getExecution',
        summary: 'One execution record: status, result, typed steps, skill calls, usage, timings',
        parameters: [idParameter('Execution id')],
        responses: {
          '200': json(ref('ExecutionRecord'), 'The execution'),
          '404': responseRef('NotFound'),
          ...guardedResponses,
        },
      },
    },
    '/agent/executions/{id}/events': {
      get: {
        operationId: 'streamExecutionEvents',
        summary:
          'Server-Sent Events: steps so far, then live `status`, `step`, `subagent_step` and `llm_delta` events, ending with `done`',
        parameters: [
          idParameter('Execution id'),
          { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
        ],
        responses: {
          '200': {
            description:
              'Event stream; `step` events carry an AgentStep, `done` carries the final ExecutionRecord as `record`',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          '401': responseRef('Unauthorized'),
          '404': responseRef('NotFound'),
        },
      },
    },
    '/agent/executions/{id}/cancel': {
      post: {
        operationId: 'cancelExecution',
        summary: 'Cancel a queued or running execution',
        parameters: [idParameter('Execution id')],
        responses: {
          '202': json(ref('CancelResponse'), 'Cancelled, or cancellation under way'),
          '404': responseRef('NotFound'),
          '409': problemResponse('The execution already finished'),
          ...guardedResponses,
        },
      },
    },
    '/agent/sessions/{id}': {
      get: {
        operationId: 'getSession',
        summary: 'Conversation history of a session and its executions',
        parameters: [idParameter('Session id')],
        responses: { '200': json(ref('Session'), 'The session'), '404': responseRef('NotFound'), ...guardedResponses },
      },
      delete: {
        operationId: 'deleteSession',
        summary: 'Forget a session and its executions; running tasks are cancelled',
        parameters: [idParameter('Session id')],
        responses: {
          '200': json(ref('SessionDeleted'), 'Deleted'),
          '404': responseRef('NotFound'),
          ...guardedResponses,
        },
      },
    },
    '/skills': {
      get: {
        operationId: 'listSkills',
        summary: 'Skills and agents the API key may use',
        responses: { '200': json(ref('SkillCatalog'), 'The catalog'), ...guardedResponses },
      },
    },
    '/health': {
      get: { operationId: 'health', summary: 'Liveness', ...open, responses: { '200': json(ref('Health'), 'Alive') } },
    },
    '/ready': {
      get: {
        operationId: 'ready',
        summary: 'Readiness: Redis, sandbox and LLM provider',
        ...open,
        responses: { '200': json(ref('Ready'), 'Ready'), '503': json(ref('Ready'), 'Not ready; `checks` says why') },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        ...open,
        responses: {
          '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        ...open,
        responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1 document') },
      },
    },
  }
}

/** The OpenAPI 3.1 document of the agent API, served at GET /openapi.json. */
export function buildOpenApiDocument(options: { version?: string; serverUrl?: string } = {}): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Motia Agent System API',
      version: options.version ?? '1',
      description:
        'Post a task; an agent writes and runs Python that calls skills; follow progress over SSE. Errors are RFC 9457 problem documents.',
    },
    ...(options.serverUrl && { servers: [{ url: options.serverUrl }] }),
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
    paths: paths(),
    components: {
      schemas: componentSchemas(),
      responses: commonResponses,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
    },
  }
}
