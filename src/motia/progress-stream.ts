import { createSession } from 'better-sse'
import type { Express, Request, Response } from 'express'
import type { AgentStep } from '../agent/types'
import { eventsChannel, isTerminal, type ProgressMessage } from './execution-store'
import { type HttpResponse, problemFromError } from './problem'
import { notFound, ownedBy, type RequestGuard } from './routes/context'
import { publicRecord } from './routes/executions'
import type { AgentService } from './service'

export const PROGRESS_PATH = '/agent/executions/:id/events'

function sendProblem(res: Response, response: HttpResponse): void {
  res
    .status(response.status)
    .set(response.headers ?? {})
    .json(response.body)
}

/**
 * GET /agent/executions/:id/events — Server-Sent Events: the steps so far, then live progress from
 * whichever instance runs the task (Redis pub/sub), ending with a `done` event carrying the record.
 * Registered on Express directly because plugin routes cannot stream a response.
 */
export function installProgressStream(
  app: Express,
  getService: () => Promise<AgentService>,
  guard: () => RequestGuard,
) {
  app.get(PROGRESS_PATH, async (req: Request, res: Response) => {
    let unsubscribe = async () => {}
    try {
      const principal = guard().authenticate(req.headers as Record<string, string>)
      if ('status' in principal) return sendProblem(res, principal)
      const service = await getService()
      const id = String(req.params.id)
      const initial = await service.executions.get(id)
      if (!initial || !ownedBy(initial, principal)) return sendProblem(res, notFound('execution', id))

      const session = await createSession(req, res, { keepAlive: 15_000, retry: 2_000 })
      let lastStep = -1
      let finished = false
      const pushStep = (step: AgentStep) => {
        if (step.index <= lastStep) return
        lastStep = step.index
        session.push(step, 'step', String(step.index))
      }
      const finish = (record: Parameters<typeof publicRecord>[0]) => {
        if (finished) return
        finished = true
        for (const step of record.steps) pushStep(step)
        session.push(
          { status: record.status, result: record.result, error: record.error, record: publicRecord(record) },
          'done',
        )
        void unsubscribe().finally(() => res.end())
      }
      // Subscribe before reading the record, so nothing between the read and the subscription is lost.
      const listener = (raw: string) => {
        if (finished || !session.isConnected) return
        const message = JSON.parse(raw) as ProgressMessage
        if (message.type === 'done') finish(message.record)
        else if (message.type === 'step' && message.delegation) {
          session.push({ ...message.step, delegation: message.delegation }, 'subagent_step')
        } else if (message.type === 'step') pushStep(message.step)
        else if (message.type === 'status') session.push({ status: message.status }, 'status')
        else session.push({ agent: message.agent, delta: message.delta, delegation: message.delegation }, 'llm_delta')
      }
      const channel = eventsChannel(id)
      await service.subscriber.subscribe(channel, listener)
      unsubscribe = () => service.subscriber.unsubscribe(channel, listener).catch(() => undefined)
      session.on('disconnected', () => void unsubscribe())

      const current = (await service.executions.get(id)) ?? initial
      session.push({ status: current.status }, 'status')
      if (isTerminal(current.status)) return finish(current)
      for (const step of current.steps) pushStep(step)
    } catch (err) {
      await unsubscribe()
      if (!res.headersSent) sendProblem(res, problemFromError(err))
      else res.end()
    }
  })
}
