import type { z } from 'zod'
import { AppError } from '../config/errors'
import { zodIssueList } from '../config/zod-issues'

export interface HttpResponse {
  status: number
  body: unknown
  headers?: Record<string, string>
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** Error codes → HTTP status, in one table; everything unknown is a 500. */
const STATUS_BY_CODE: Record<string, number> = {
  invalid_request: 400,
  invalid_json: 400,
  unknown_skill: 400,
  unknown_agent: 404,
  unknown_sandbox: 400,
  not_found: 404,
  unauthorized: 401,
  forbidden: 403,
  payload_too_large: 413,
  rate_limited: 429,
  conflict: 409,
  not_ready: 503,
}

/** An RFC 9457 problem body: `{ type, title, status, detail, code, errors? }`. */
export function problem(
  status: number,
  code: string,
  detail: string,
  errors?: { path: string; message: string }[],
): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json' },
    body: {
      type: `about:blank#${code}`,
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      code,
      ...(errors && { errors }),
    },
  }
}

export function validationProblem(error: z.ZodError, what = 'request body'): HttpResponse {
  const errors = zodIssueList(error)
  return problem(
    400,
    'invalid_request',
    `Invalid ${what}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    errors,
  )
}

/** Maps any thrown value to a problem response; unexpected errors never leak a stack. */
export function problemFromError(err: unknown): HttpResponse {
  if (err instanceof AppError) return problem(STATUS_BY_CODE[err.code] ?? 500, err.code, err.message)
  return problem(500, 'internal_error', 'Internal server error')
}
