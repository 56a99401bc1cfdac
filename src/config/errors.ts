/** An error the API and the CLI can show as-is: a stable `code` plus a human message, no stack. */
export class AppError extends Error {
  readonly code: string
  readonly details?: Record<string, unknown>

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.details = details
  }
}

/** A configuration value that stops start-up: one line naming the variable/file and what is allowed. */
export class ConfigError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('config_invalid', message, details)
    this.name = 'ConfigError'
  }
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err))
