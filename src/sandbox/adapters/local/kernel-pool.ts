import { type KernelSpawnOptions, PythonKernel } from './kernel-process'

/**
 * Interpreters started ahead of time (kernel.py imported, waiting for `open`), so a new session
 * or a session whose interpreter was killed does not pay interpreter start-up.
 */
export class KernelPool {
  private readonly idle: PythonKernel[] = []
  private starting = 0
  private closed = false

  constructor(
    private readonly size: number,
    private readonly spawnOptions: KernelSpawnOptions,
  ) {}

  /** The directories pooled kernels can write; sessions elsewhere get a kernel of their own. */
  get writableDirs() {
    return this.spawnOptions.writableDirs
  }

  /** A started interpreter is waiting: the host can run Python right now. */
  hasReady(): boolean {
    return this.idle.some((kernel) => !kernel.exited)
  }

  fill() {
    while (!this.closed && this.idle.length + this.starting < this.size) {
      this.starting++
      const kernel = PythonKernel.start(this.spawnOptions)
      kernel.ready.then(
        () => {
          this.starting--
          if (this.closed) kernel.kill()
          else this.idle.push(kernel)
        },
        () => {
          this.starting--
        },
      )
    }
  }

  /** A ready kernel if one is waiting, else a fresh one; the pool refills in the background. */
  take(writableDirs?: string[]): PythonKernel {
    if (writableDirs) return PythonKernel.start({ ...this.spawnOptions, writableDirs })
    let kernel = this.idle.shift()
    while (kernel?.exited) kernel = this.idle.shift()
    this.fill()
    return kernel ?? PythonKernel.start(this.spawnOptions)
  }

  close() {
    this.closed = true
    for (const kernel of this.idle.splice(0)) kernel.kill()
  }
}
