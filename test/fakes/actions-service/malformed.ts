import type { MalformedKind } from './faults.js';

export interface Envelope {
  messageId: number;
  messageType: string;
  body: string;
  statistics: unknown;
}

/** Past 2^63: too big even for Go's int64, let alone a JavaScript number. */
const HUGE = '18446744073709551615';
/** Past 2^53 (2^53 + 1): exact in Go's int64, rounded by JSON.parse. */
const UNSAFE = '9007199254740993';

/**
 * A 200 from the queue as it should be, or broken in one of the ways seen in the field (spec §6.1–6.2,
 * §11.5): empty body, truncated JSON, another message type, null statistics, an unknown job message next
 * to the real ones, a byte order mark; and integers past 2^53, where nothing reads them or where
 * something does, and a body that is not an array. The message itself stays queued, so a client that
 * rejects the broken copy gets it again on its next poll (intact, unless it was poisoned).
 * Integers that large have no JSON.stringify form, so they are spliced into the text.
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
    case 'unsafe-unknown-field': {
      // Every element starts with messageType (messages.ts builds them so).
      const body = envelope.body.replaceAll('{"messageType":', `{"planId":${HUGE},"messageType":`);
      return JSON.stringify({ ...envelope, body }).replace(/^\{/, `{"traceSequence":${HUGE},`);
    }
    case 'unsafe-used-field': {
      const body = envelope.body.replace(/"runnerRequestId":\d+/, `"runnerRequestId":${UNSAFE}`);
      return JSON.stringify({ ...envelope, body });
    }
    case 'undecodable-body':
      return JSON.stringify({ ...envelope, body: '{"jobs":"not an array"}' });
    case undefined:
      return JSON.stringify(envelope);
  }
}
