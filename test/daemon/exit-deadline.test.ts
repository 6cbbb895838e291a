import { describe, expect, it } from 'vitest';
import { exitDeadline } from '../../src/daemon/exit-deadline.js';
import { createLogger } from '../../src/log.js';
import { ManualClock } from '../support/manual-clock.js';
import { LogSink } from './harness.js';

function setup() {
  const clock = new ManualClock();
  const sink = new LogSink();
  const exits: number[] = [];
  const opts = {
    clock,
    logger: createLogger({ level: 'info', destination: sink }),
    exit: (code: number) => exits.push(code),
    openHandles: () => ({ PipeWrap: 1, Timeout: 2 }),
  };
  return { clock, sink, exits, opts };
}

describe('exitDeadline', () => {
  it('ends a process still running at the deadline, saying what it was waiting for', () => {
    const { clock, sink, exits, opts } = setup();
    exitDeadline(
      50_000,
      1,
      'shutdown did not finish',
      () => ({ scaleSets: [{ name: 'linux', phase: 'draining' }] }),
      opts,
    );
    clock.advance(49_999);
    expect(exits).toEqual([]);
    clock.advance(1);
    expect(exits).toEqual([1]);
    const line = JSON.parse(sink.lines[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'error',
      msg: 'shutdown did not finish',
      exitCode: 1,
      scaleSets: [{ name: 'linux', phase: 'draining' }],
      openHandles: { PipeWrap: 1, Timeout: 2 },
    });
  });

  it('does nothing once cancelled, and a failing report still exits', () => {
    const { clock, exits, opts } = setup();
    const cancel = exitDeadline(1_000, 1, 'late', () => ({}), opts);
    cancel();
    clock.advance(10_000);
    expect(exits).toEqual([]);
    exitDeadline(
      1_000,
      0,
      'lingering',
      () => {
        throw new Error('status unavailable');
      },
      opts,
    );
    clock.advance(1_000);
    expect(exits).toEqual([0]);
  });
});
