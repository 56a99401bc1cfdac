import type { MotiaPlugin, MotiaPluginContext } from '@motiadev/core'

/**
 * Our Motia plugin: the agent runs here, inside the server process, not in `.step.ts` files
 * (Motia 0.17 spawns a Node process per step call). Routes and subscriptions are thin adapters.
 */
export function agentPlugin(motia: MotiaPluginContext): MotiaPlugin {
  motia.registerApi({ method: 'GET', path: '/health' }, async () => ({
    status: 200,
    body: { status: 'ok', uptimeSeconds: Math.round(process.uptime()) },
  }))
  // Workbench rejects the whole config when a plugin returns no workbench array.
  return { workbench: [] }
}
