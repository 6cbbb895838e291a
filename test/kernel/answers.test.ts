import { describe, expect, it } from 'vitest';
import { AnswerWatch } from '../../src/kernel/answers.js';
import { ManualClock } from '../support/manual-clock.js';

describe('AnswerWatch', () => {
  it('is silent from the first unanswered call, while it waits, until any call is answered', () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const w = new AnswerWatch(clock);
    expect(w.silence()).toBeUndefined();

    const first = w.sent();
    clock.advance(5_000);
    // Still waiting: silent since it was sent, before its deadline has said anything.
    expect(w.silence()).toEqual({ since: t0 });
    const second = w.sent();
    first({ kind: 'unanswered', error: 'GET /version: no answer within 30s' });
    expect(w.silence()).toEqual({ since: t0, lastError: 'GET /version: no answer within 30s' });

    clock.advance(1_000);
    second({ kind: 'answered' });
    expect(w.silence()).toBeUndefined();
  });

  it('a slow call while others are answered is not silence; one sent after the last answer is', () => {
    const clock = new ManualClock();
    const w = new AnswerWatch(clock);
    const slow = w.sent();
    clock.advance(1_000);
    const quick = w.sent();
    clock.advance(10);
    quick({ kind: 'answered' });
    clock.advance(60_000);
    expect(w.silence()).toBeUndefined();

    const later = w.sent();
    const sentAt = clock.now();
    clock.advance(3_000);
    expect(w.silence()).toEqual({ since: sentAt });
    slow({ kind: 'answered' });
    later({ kind: 'cancelled' });
    expect(w.silence()).toBeUndefined();
  });

  it('a cancelled call says nothing; a refused connection is no answer', async () => {
    const clock = new ManualClock();
    const w = new AnswerWatch(clock);
    w.sent()({ kind: 'cancelled' });
    expect(w.silence()).toBeUndefined();
    await expect(
      w.track(
        () => Promise.reject(new Error('connect ECONNREFUSED')),
        (err) => ({ kind: 'unanswered', error: (err as Error).message }),
      ),
    ).rejects.toThrow('ECONNREFUSED');
    expect(w.silence()).toEqual({ since: clock.now(), lastError: 'connect ECONNREFUSED' });
    await w.track(
      () => Promise.resolve(1),
      () => ({ kind: 'cancelled' }),
    );
    expect(w.silence()).toBeUndefined();
  });
});
