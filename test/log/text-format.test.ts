import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DockerBackendError } from '../../backends/docker/errors.js';
import { createLogger, type LogFormat, type LogLevel } from '../../src/log.js';
import { Secret } from '../../src/secret.js';

function capture(format: LogFormat, level: LogLevel = 'info') {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString('utf8');
      cb();
    },
  });
  return { text: () => out, logger: createLogger({ format, level, destination: sink }) };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), {
    code: 'ECONNREFUSED',
    syscall: 'connect',
  });

describe('errors in the text log format', () => {
  it('one line: the message once, its code, then what caused it; no JSON, no stack', () => {
    const { text, logger } = capture('text');
    const err = new DockerBackendError('DOCKER_PULL_FAILED', 'pull of img:1 failed', { cause: refused() });
    logger.warn({ scaleSet: 'linux', runner: 'r1', err, attempt: 2 }, 'runner start failed');
    expect(text()).toMatch(
      /^\S+ WARN {2}\[linux\/r1\] runner start failed: pull of img:1 failed \(DOCKER_PULL_FAILED\) ← connect ECONNREFUSED \/var\/run\/docker\.sock \(ECONNREFUSED\) attempt=2\n$/,
    );
    expect(text().match(/pull of img:1 failed/g)).toHaveLength(1);
  });

  it('a cause its parent already quotes is not repeated; its code still shows', () => {
    const { text, logger } = capture('text');
    const cause = refused();
    const err = new DockerBackendError('DOCKER_API', `engine unreachable: ${cause.message}`, { cause });
    logger.error({ err }, 'listing failed');
    expect(text()).toMatch(
      /ERROR listing failed: engine unreachable: connect ECONNREFUSED \/var\/run\/docker\.sock \(DOCKER_API\) ← \(ECONNREFUSED\)\n$/,
    );
  });

  it('an error nothing raised on purpose (no code) is named and keeps its stack, indented under the line', () => {
    const { text, logger } = capture('text');
    logger.error(
      { err: new TypeError("Cannot read properties of undefined (reading 'x')") },
      'listener failed',
    );
    const [first, ...rest] = text().trimEnd().split('\n');
    expect(first).toMatch(
      /ERROR listener failed: TypeError: Cannot read properties of undefined \(reading 'x'\)$/,
    );
    expect(rest.length).toBeGreaterThan(0);
    for (const line of rest) expect(line).toMatch(/^ {4}at /);
  });

  it('at debug, every error brings its stacks, causes included', () => {
    const { text, logger } = capture('text', 'debug');
    const err = new DockerBackendError('DOCKER_PULL_FAILED', 'pull failed', { cause: refused() });
    logger.warn({ err }, 'runner start failed');
    const lines = text().trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /runner start failed: pull failed \(DOCKER_PULL_FAILED\) ← connect ECONNREFUSED/,
    );
    expect(lines).toContain('    caused by Error: connect ECONNREFUSED /var/run/docker.sock');
    expect(lines.filter((l) => /^ {4}at /.test(l)).length).toBeGreaterThan(1);
  });

  it('secrets stay scrubbed from error messages and causes', () => {
    const { text, logger } = capture('text');
    const token = new Secret('ghp_textformatsecret123');
    const err = new Error(`auth failed for ${token.reveal()}`, {
      cause: new Error(`sent ${token.reveal()}`),
    });
    logger.error({ err }, 'request failed');
    expect(text()).not.toContain('ghp_textformatsecret123');
    expect(text()).toContain('auth failed for');
  });

  it('the JSON format keeps pino’s error shape for collectors', () => {
    const { text, logger } = capture('json');
    const err = new DockerBackendError('DOCKER_PULL_FAILED', 'pull failed', { cause: refused() });
    logger.warn({ err }, 'runner start failed');
    const line = JSON.parse(text()) as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({
      type: 'DockerBackendError',
      code: 'DOCKER_PULL_FAILED',
      message: 'pull failed: connect ECONNREFUSED /var/run/docker.sock',
      stack: expect.stringContaining('caused by: Error: connect ECONNREFUSED'),
    });
  });
});
