import { describe, expect, it } from 'vitest';
import { decodeScaleSetMessage } from '../../src/github/index.js';

const STATS = {
  totalAvailableJobs: 1,
  totalAcquiredJobs: 2,
  totalAssignedJobs: 3,
  totalRunningJobs: 4,
  totalRegisteredRunners: 5,
  totalBusyRunners: 6,
  totalIdleRunners: 7,
};

function envelope(jobs: unknown[] | string | undefined, extra: Record<string, unknown> = {}): string {
  const body = typeof jobs === 'string' || jobs === undefined ? jobs : JSON.stringify(jobs);
  return JSON.stringify({
    messageId: 10391,
    messageType: 'RunnerScaleSetJobMessages',
    body,
    statistics: STATS,
    ...extra,
  });
}

const job = (messageType: string, runnerRequestId: number, extra: Record<string, unknown> = {}) => ({
  messageType,
  runnerRequestId,
  repositoryName: 'repo',
  ownerName: 'org',
  jobId: `job-${runnerRequestId}`,
  jobWorkflowRef: 'org/repo/.github/workflows/ci.yml@refs/heads/main',
  jobDisplayName: 'build',
  workflowRunId: 123,
  eventName: 'push',
  requestLabels: ['arc-runner-set'],
  queueTime: '2024-09-11T15:14:20.1234567Z',
  scaleSetAssignTime: '0001-01-01T00:00:00Z',
  runnerAssignTime: null,
  ...extra,
});

describe('message parsing (§6.2, §13.32, §13.33)', () => {
  it('groups job messages by type, keeping order and ignoring unknown types', () => {
    const msg = decodeScaleSetMessage(
      envelope([
        job('JobAvailable', 1, { acquireJobUrl: 'https://x/acquire' }),
        job('JobStarted', 2, { runnerId: 17, runnerName: 'r-2' }),
        job('SomethingNew', 99, { weird: { nested: true } }),
        job('JobAvailable', 3, { acquireJobUrl: 'https://x/acquire' }),
        job('JobAssigned', 4),
        job('JobCompleted', 5, {
          result: 'succeeded',
          runnerId: 18,
          runnerName: 'r-5',
          finishTime: '2024-09-11T15:20:00Z',
        }),
        job('JobStarted', 6, { runnerId: 19, runnerName: 'r-6' }),
      ]),
      'test',
    );
    expect(msg.messageId).toBe(10391);
    expect(msg.statistics).toEqual(STATS);
    expect(msg.jobAvailable.map((j) => j.runnerRequestId)).toEqual([1, 3]);
    expect(msg.jobAssigned.map((j) => j.runnerRequestId)).toEqual([4]);
    expect(msg.jobStarted.map((j) => [j.runnerRequestId, j.runnerName, j.runnerId])).toEqual([
      [2, 'r-2', 17],
      [6, 'r-6', 19],
    ]);
    expect(msg.jobCompleted[0]).toMatchObject({
      messageType: 'JobCompleted',
      result: 'succeeded',
      runnerName: 'r-5',
      finishTime: '2024-09-11T15:20:00.000Z',
    });
    expect(msg.jobAvailable[0]).toMatchObject({
      messageType: 'JobAvailable',
      acquireJobUrl: 'https://x/acquire',
      requestLabels: ['arc-runner-set'],
      queueTime: '2024-09-11T15:14:20.123Z',
      scaleSetAssignTime: null,
      runnerAssignTime: null,
      finishTime: null,
    });
    // Type-specific keys of other types do not leak in.
    expect(msg.jobAvailable[0]).not.toHaveProperty('runnerName');
  });

  it.each([
    ['an empty body string', ''],
    ['no body', undefined],
    ['an empty array', '[]'],
  ])('%s yields no job messages', (_what, body) => {
    const msg = decodeScaleSetMessage(envelope(body), 'test');
    expect([msg.jobAvailable, msg.jobAssigned, msg.jobStarted, msg.jobCompleted]).toEqual([[], [], [], []]);
  });

  it('accepts keys in any case, like Go', () => {
    const msg = decodeScaleSetMessage(
      JSON.stringify({
        MessageId: 7,
        MESSAGETYPE: 'RunnerScaleSetJobMessages',
        Body: JSON.stringify([{ MessageType: 'JobStarted', RunnerRequestId: 3, RunnerName: 'x' }]),
        Statistics: { TotalAssignedJobs: 2 },
      }),
      'test',
    );
    expect(msg.messageId).toBe(7);
    expect(msg.statistics.totalAssignedJobs).toBe(2);
    expect(msg.statistics.totalIdleRunners).toBe(0);
    expect(msg.jobStarted[0]).toMatchObject({ runnerRequestId: 3, runnerName: 'x', repositoryName: '' });
  });

  it('rejects a message type other than RunnerScaleSetJobMessages', () => {
    expect(() => decodeScaleSetMessage(envelope([], { messageType: 'Other' }), 'test')).toThrow(
      expect.objectContaining({
        code: 'INVALID_RESPONSE',
        message: expect.stringContaining('unsupported message type: Other'),
      }),
    );
  });

  it.each([
    ['null statistics', { statistics: null }],
    ['absent statistics', { statistics: undefined }],
  ])('rejects %s with a clear error', (_what, extra) => {
    expect(() => decodeScaleSetMessage(envelope([], extra), 'test')).toThrow(/statistics is null or missing/);
  });

  it.each([
    ['a body that is not an array', '{"messageType":"JobStarted"}', /not a JSON array/],
    ['a body that is not JSON', '[{', /malformed JSON/],
    ['an element that is not an object', '[1]', /not an object/],
    ['a bad time', JSON.stringify([{ messageType: 'JobStarted', queueTime: 'yesterday' }]), /queueTime/],
    [
      'an id as a string',
      JSON.stringify([{ messageType: 'JobAvailable', runnerRequestId: '1' }]),
      /runnerRequestId/,
    ],
  ])('rejects %s', (_what, body, pattern) => {
    expect(() => decodeScaleSetMessage(envelope(body), 'test')).toThrow(pattern);
  });

  it('rejects an empty 200 body and a BOM-only body, accepts a BOM-prefixed one', () => {
    expect(() => decodeScaleSetMessage('', 'GET q')).toThrow(
      /invalid response from GET q: empty response body/,
    );
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(envelope([]))]);
    expect(decodeScaleSetMessage(withBom, 'test').messageId).toBe(10391);
  });

  it('rejects unsafe integer ids instead of rounding them', () => {
    expect(() =>
      decodeScaleSetMessage(
        envelope('[{"messageType":"JobAvailable","runnerRequestId":9007199254740993}]'),
        't',
      ),
    ).toThrow(/safe range/);
  });
});
