/** Every topic of the agent flow, in one place, so the flow reads top to bottom here. */
export const TOPICS = {
  /** POST /agent/execute → the task runner. Data: TaskRequested. */
  taskRequested: 'agent.task.requested',
  /** Task runner → history/session updater. Data: TaskFinished. */
  taskCompleted: 'agent.task.completed',
  taskFailed: 'agent.task.failed',
} as const

/** Subscriber names; one BullMQ queue per (topic, subscriber), shared by every instance. */
export const SUBSCRIBERS = {
  taskRunner: 'agent-task-runner',
  historyUpdater: 'agent-history-updater',
} as const

export const FLOW = 'agent'

export interface TaskRequested {
  executionId: string
  sessionId: string
}

export interface TaskFinished {
  executionId: string
  sessionId: string
  status: 'completed' | 'failed' | 'cancelled'
}
