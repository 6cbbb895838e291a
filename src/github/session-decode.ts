import { registerSecret } from '../secret.js';
import { InvalidResponseError } from './errors.js';
import type { HttpResponse } from './transport.js';
import type { RunnerScaleSetSession } from './types.js';
import { decodeBody, sessionSchema } from './wire-decoders.js';

/**
 * Decodes a session from a 200 (create §5.2, refresh §5.3). A session without a queue URL or token
 * has been seen during incidents; rejecting it here beats an "unsupported protocol" on the first poll.
 */
export function decodeSessionResponse(res: HttpResponse): RunnerScaleSetSession {
  const what = `${res.method} ${res.url}`;
  const session = decodeBody(sessionSchema, res.body, what);
  if (!session.sessionId)
    throw new InvalidResponseError(`invalid session from ${what}: sessionId is missing`);
  if (!session.messageQueueAccessToken) {
    throw new InvalidResponseError(`invalid session from ${what}: messageQueueAccessToken is missing`);
  }
  registerSecret(session.messageQueueAccessToken);
  if (!isHttpUrl(session.messageQueueUrl)) {
    throw new InvalidResponseError(
      `invalid session from ${what}: messageQueueUrl ${JSON.stringify(session.messageQueueUrl)} is not an http(s) URL`,
    );
  }
  return session;
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
