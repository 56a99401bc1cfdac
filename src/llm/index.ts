export { createLlmClient } from './client'
export { LlmError, type LlmErrorCode } from './errors'
export type { LlmClientSpec, LlmProviderType } from './spec'
export type { LlmClient, LlmMessage, LlmRequest, LlmResponse, LlmUsage } from './types'
