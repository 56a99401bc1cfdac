import type { z } from 'zod'

/** One line per problem, `path: message`, for config files and HTTP problem bodies alike. */
export function zodIssueList(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }))
}

export function formatZodIssues(error: z.ZodError): string {
  return zodIssueList(error)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ')
}
