import type { FakeJob } from './types.js';

/** How Go's zero time.Time reaches the wire: "unset" (spec §7.1). */
export const UNSET_TIME = '0001-01-01T00:00:00Z';
/** Real batches never hold more (spec §6.2). */
export const MAX_JOBS_PER_MESSAGE = 50;

export type JobEventType = 'JobAvailable' | 'JobAssigned' | 'JobStarted' | 'JobCompleted';
/** One element of a message's `body` array, as it goes on the wire. */
export type JobEvent = { messageType: JobEventType; runnerRequestId: number } & Record<string, unknown>;

export interface StoredMessage {
  messageId: number;
  events: JobEvent[];
}

/** A job message with the job's fields as they are now (times unset until they happen). */
export function jobEvent(job: FakeJob, messageType: JobEventType, extra: Record<string, unknown>): JobEvent {
  const [owner = 'my-org', repo = 'my-repo'] = job.repository.split('/');
  return {
    messageType,
    runnerRequestId: job.requestId,
    repositoryName: repo,
    ownerName: owner,
    jobId: job.jobId,
    jobWorkflowRef: `${owner}/${repo}/.github/workflows/ci.yml@refs/heads/main`,
    jobDisplayName: job.displayName,
    workflowRunId: job.requestId * 10,
    eventName: 'push',
    requestLabels: job.labels,
    queueTime: job.queueTime,
    scaleSetAssignTime: job.scaleSetAssignTime ?? UNSET_TIME,
    runnerAssignTime: job.runnerAssignTime ?? UNSET_TIME,
    finishTime: job.finishTime ?? UNSET_TIME,
    ...extra,
  };
}

/**
 * One scale set's message queue. It belongs to the scale set, not the session, so messages nobody acked
 * survive a listener restart and reach the next session (the docs promise redelivery of unacked messages).
 * Events wait in `pending` until a poll takes them: whatever piled up between polls becomes one batch,
 * as real batches do.
 */
export class MessageQueue {
  #pending: JobEvent[] = [];
  #messages: StoredMessage[] = [];

  constructor(private readonly nextId: () => number) {}

  push(event: JobEvent): void {
    this.#pending.push(event);
  }

  /** The oldest unacked message with id > lastMessageId, cutting pending events into a new one if none. */
  next(lastMessageId: number): StoredMessage | undefined {
    const waiting = this.#messages.find((m) => m.messageId > lastMessageId);
    if (waiting || this.#pending.length === 0) return waiting;
    const message = {
      messageId: this.nextId(),
      events: this.#pending.splice(0, MAX_JOBS_PER_MESSAGE),
    };
    this.#messages.push(message);
    return message;
  }

  /** Removes an acked message; returns it, or undefined when no such message is waiting. */
  ack(messageId: number): StoredMessage | undefined {
    const i = this.#messages.findIndex((m) => m.messageId === messageId);
    return i < 0 ? undefined : this.#messages.splice(i, 1)[0];
  }

  /** Whether a JobAvailable for the job is still pending or unacked. */
  announces(requestId: number): boolean {
    const match = (e: JobEvent) => e.messageType === 'JobAvailable' && e.runnerRequestId === requestId;
    return this.#pending.some(match) || this.#messages.some((m) => m.events.some(match));
  }

  get size(): number {
    return this.#messages.length + this.#pending.length;
  }
}
