import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactSecretKeys } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'trace', destination: sink }) };
}

describe('redactSecretKeys', () => {
  it('censors secret keys at the top and nested levels, any case, without touching the caller’s object', () => {
    const input = {
      token: 'ghp_topsecret',
      runner: 'r-1',
      request: { headers: { Authorization: 'Bearer abc', accept: 'json' } },
      env: { ACTIONS_RUNNER_INPUT_JITCONFIG: 'base64jit', PATH: '/bin' },
      list: [{ token: 'in-an-array-is-not-walked' }],
    };
    const snapshot = structuredClone(input);
    const out = redactSecretKeys(input);
    expect(out).toEqual({
      token: '[Redacted]',
      runner: 'r-1',
      request: { headers: { Authorization: '[Redacted]', accept: 'json' } },
      env: { ACTIONS_RUNNER_INPUT_JITCONFIG: '[Redacted]', PATH: '/bin' },
      list: [{ token: 'in-an-array-is-not-walked' }],
    });
    expect(input).toEqual(snapshot);
  });

  it('returns the same object when nothing is secret (no copy on the hot path)', () => {
    const input = { requestId: 1, result: 'succeeded', nested: { a: 1 } };
    expect(redactSecretKeys(input)).toBe(input);
  });

  it('stops at the depth limit', () => {
    const deep = { a: { b: { c: { d: { token: 'x' } } } } };
    expect(redactSecretKeys(deep, 2)).toBe(deep);
    expect(JSON.stringify(redactSecretKeys(deep, 5))).not.toContain('"x"');
  });
});

describe('logger redaction', () => {
  it('removes secret keys from log objects and from errors’ own properties, keeping the error readable', () => {
    const { lines, logger } = capture();
    const err = Object.assign(new Error('request failed'), { status: 401, authorization: 'Bearer leaky' });
    logger.info({ pat: 'ghp_plain', session: { messageQueueAccessToken: 'qtoken-1' }, err }, 'hello');
    const line = lines.join('');
    for (const secret of ['ghp_plain', 'qtoken-1', 'Bearer leaky']) expect(line).not.toContain(secret);
    const parsed = JSON.parse(line) as { err: { message: string; stack: string; status: number } };
    expect(parsed.err.message).toBe('request failed');
    expect(parsed.err.stack).toContain('Error: request failed');
    expect(parsed.err.status).toBe(401);
  });
});
