import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Sandbox and integration suites spawn processes; two workers fit CI's two cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
