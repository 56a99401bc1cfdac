import { createServer } from 'node:net'
import type { LlmProviderType } from '../../src/llm'
import type { FakeLlmServer } from '../fake-llm/server'

export const VENDOR_TYPES = ['anthropic', 'openai', 'openai-compatible'] as const satisfies LlmProviderType[]
export type VendorType = (typeof VENDOR_TYPES)[number]

/** The wire format each provider type speaks. */
export const WIRE: Record<VendorType, 'anthropic' | 'openai'> = {
  anthropic: 'anthropic',
  openai: 'openai',
  'openai-compatible': 'openai',
}

export function vendorSpec(type: VendorType, server: FakeLlmServer, extra: Record<string, unknown> = {}) {
  return {
    name: 'test',
    type,
    model: type === 'anthropic' ? 'claude-sonnet-4-5' : 'glm-4',
    baseUrl: type === 'anthropic' ? server.anthropicBaseUrl : server.openaiBaseUrl,
    apiKey: 'sk-test-123',
    maxRetries: 0,
    ...extra,
  }
}

/** A port nothing listens on: bound once by us, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5))
}
