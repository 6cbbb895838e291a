import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FallbackDestination, type OnLogSwitch } from '../../src/log-destination.js';
import { pollUntil } from '../../src/util/poll-until.js';

/**
 * A real stream whose reader can go away: our end of a unix socket. `hangUp()` closes the other end,
 * as a dead `tee` or fifo reader does, and later writes fail (EPIPE or ECONNRESET).
 */
async function brokenLater(dir: string): Promise<{ stream: Socket; hangUp(): void; received(): string }> {
  const path = join(dir, `s-${Math.random().toString(36).slice(2)}.sock`);
  let peer: Socket | undefined;
  let text = '';
  const server = createServer((s) => {
    peer = s;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
    });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const stream = createConnection(path);
  await new Promise<void>((resolve) => stream.once('connect', resolve));
  await pollUntil(() => peer, { timeout: 2_000, what: 'accepted connection' });
  return {
    stream,
    hangUp() {
      peer?.destroy();
      server.close();
    },
    received: () => text,
  };
}

const collect = (s: PassThrough) => {
  let text = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    text += d;
  });
  return () => text;
};

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('FallbackDestination', () => {
  it('moves on to the next target when one breaks, re-sends the failed line, and says so once', async () => {
    dir = await mkdtemp(join(tmpdir(), 'runner-logdest-'));
    const first = await brokenLater(dir);
    const second = new PassThrough();
    const secondText = collect(second);
    const switches: Parameters<OnLogSwitch>[] = [];
    const dest = new FallbackDestination(
      [
        { name: 'first', stream: first.stream },
        { name: 'second', stream: second },
      ],
      (...args) => switches.push(args),
    );

    dest.write('a\n');
    await pollUntil(() => first.received() === 'a\n', { timeout: 2_000, what: 'line a on the first target' });
    first.hangUp();
    // Writes go on until the break surfaces; from then on every line lands on the second target.
    let n = 0;
    await pollUntil(
      () => {
        dest.write(`line ${n++}\n`);
        return dest.current === 'second';
      },
      { timeout: 5_000, interval: 10, what: 'the switch to the second target' },
    );
    dest.write('after\n');
    await pollUntil(() => secondText().endsWith('after\n') || undefined, {
      timeout: 2_000,
      what: 'the line written after the switch',
    });

    expect(switches).toHaveLength(1);
    expect(switches[0]?.[0]).toBe('first');
    expect(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']).toContain(switches[0]?.[1]);
    expect(switches[0]?.[2]).toBe('second');
    // No line is lost at the switch: each went to the first target before the break or to the second.
    const both = first.received() + secondText();
    for (let i = 0; i < n; i++) expect(both).toContain(`line ${i}\n`);
  });

  it('with every target broken, drops lines without an error or an exception', async () => {
    dir = await mkdtemp(join(tmpdir(), 'runner-logdest-'));
    const only = await brokenLater(dir);
    const dest = new FallbackDestination([{ name: 'only', stream: only.stream }]);
    const errors: unknown[] = [];
    dest.on('error', (err) => errors.push(err));
    only.hangUp();
    await pollUntil(
      () => {
        dest.write('x\n');
        return dest.current === undefined;
      },
      { timeout: 5_000, interval: 10, what: 'the only target marked broken' },
    );
    for (let i = 0; i < 100; i++) dest.write('dropped\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([]);
  });
});
