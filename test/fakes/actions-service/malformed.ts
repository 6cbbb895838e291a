import type { MalformedKind } from './faults.js';

export interface Envelope {
  messageId: number;
  messageType: string;
  body: string;
  statistics: unknown;
}

/**
 * A 200 from the queue as it should be, or broken in one of the ways seen in the field (spec §6.1–6.2,
 * §11.5): empty body, truncated JSON, another message type, null statistics, an unknown job message next
 * to the real ones, a byte order mark. The message itself stays queued, so a client that rejects the
 * broken copy gets the real one on its next poll.
 */
export function renderMessage(envelope: Envelope, kind: MalformedKind | undefined): string {
  switch (kind) {
    case 'empty-body':
      return '';
    case 'bad-json':
      return JSON.stringify(envelope).slice(0, 20);
    case 'wrong-type':
      return JSON.stringify({ ...envelope, messageType: 'RunnerScaleSetSomethingElse' });
    case 'null-statistics':
      return JSON.stringify({ ...envelope, statistics: null });
    case 'unknown-inner': {
      const jobs = JSON.parse(envelope.body || '[]') as unknown[];
      const unknown = { messageType: 'JobFrobnicated', runnerRequestId: 0 };
      return JSON.stringify({ ...envelope, body: JSON.stringify([unknown, ...jobs]) });
    }
    case 'bom':
      return `\uFEFF${JSON.stringify(envelope)}`;
    case undefined:
      return JSON.stringify(envelope);
  }
}
