import { AppError } from '../config/errors'
import { LocalPythonSandbox } from './adapters/local/adapter'
import { MontySandbox } from './adapters/monty/adapter'
import type { SandboxAdapterConfig, SandboxConfig } from './config'
import type { SandboxAdapter } from './types'

export function createSandboxAdapter(config: SandboxAdapterConfig): SandboxAdapter {
  switch (config.type) {
    case 'local':
      return new LocalPythonSandbox(config.local)
    case 'monty':
      return new MontySandbox(config.monty)
  }
}

/** One adapter per configured name, created on first use, so a task can pick `sandbox: "monty"`. */
export class SandboxRegistry {
  private readonly adapters = new Map<string, SandboxAdapter>()

  constructor(readonly config: SandboxConfig) {}

  get defaultName() {
    return this.config.default_adapter
  }

  names(): string[] {
    return Object.keys(this.config.adapters)
  }

  has(name: string): boolean {
    return name in this.config.adapters
  }

  get(name: string = this.defaultName): SandboxAdapter {
    const existing = this.adapters.get(name)
    if (existing) return existing
    const config = this.config.adapters[name]
    if (!config) {
      throw new AppError('sandbox_unknown', `unknown sandbox "${name}" (configured: ${this.names().join(', ')})`)
    }
    const adapter = createSandboxAdapter(config)
    this.adapters.set(name, adapter)
    return adapter
  }

  /** /ready: the default adapter can run code now. */
  check() {
    return this.get().check()
  }

  async shutdown() {
    await Promise.all([...this.adapters.values()].map((adapter) => adapter.shutdown()))
    this.adapters.clear()
  }
}
