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

  it('a message type other than RunnerScaleSetJobMessages is undecodable, naming the message', () => {
    expect(() => decodeScaleSetMessage(envelope([], { messageType: 'Other' }), 'test')).toThrow(
      expect.objectContaining({
        code: 'UNDECODABLE_MESSAGE',
        messageId: 10391,
        reason: 'unsupported message type: Other',
        message: expect.stringContaining('unsupported message type: Other'),
      }),
    );
  });

  it.each([
    ['null statistics', { statistics: null }],
    ['absent statistics', { statistics: undefined }],
  ])('%s make the message undecodable, with a clear error', (_what, extra) => {
    expect(() => decodeScaleSetMessage(envelope([], extra), 'test')).toThrow(
      expect.objectContaining({
        code: 'UNDECODABLE_MESSAGE',
        messageId: 10391,
        reason: 'statistics is null or missing',
      }),
    );
  });

  it.each([
    ['a body that is not an array', '{"messageType":"JobStarted"}', /body: not a JSON array/],
    ['a body that is not JSON', '[{', /body: malformed JSON/],
    [
      'statistics past 2^53',
      { statistics: '{"totalAssignedJobs":9007199254740993}' },
      /statistics.totalAssignedJobs: integer beyond/,
    ],
    ['a body that is not a string', { body: '[]' }, /body: /],
  ])('%s makes the message undecodable, naming its id', (_what, broken, reason) => {
    const text =
      typeof broken === 'string'
        ? envelope(broken)
        : // Spliced as text: JSON.stringify cannot write an integer past 2^53.
          envelope([]).replace(/"statistics":\{[^}]*\}/, () =>
            'statistics' in broken
              ? `"statistics":${broken.statistics}`
              : `"statistics":${JSON.stringify(STATS)},"body":${broken.body}`,
          );
    expect(() => decodeScaleSetMessage(text, 'test')).toThrow(
      expect.objectContaining({
        code: 'UNDECODABLE_MESSAGE',
        messageId: 10391,
        reason: expect.stringMatching(reason),
      }),
    );
  });

  it.each([
    ['an empty body', '', /empty response body/],
    ['malformed JSON', '{"messageId":7,"mess', /malformed JSON/],
    ['not an object', '[1]', /not a JSON object/],
    [
      'no messageId',
      JSON.stringify({ messageType: 'RunnerScaleSetJobMessages', statistics: STATS }),
      /messageId is missing/,
    ],
    [
      'a messageId past 2^53',
      '{"messageId":9007199254740993,"messageType":"RunnerScaleSetJobMessages"}',
      /messageId: integer beyond/,
    ],
  ])('%s is an invalid response: without a usable id there is no message to name', (_what, text, pattern) => {
    expect(() => decodeScaleSetMessage(text, 'GET q')).toThrow(
      expect.objectContaining({ code: 'INVALID_RESPONSE', message: expect.stringMatching(pattern) }),
    );
  });

  it('accepts a BOM-prefixed body', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(envelope([]))]);
    expect(decodeScaleSetMessage(withBom, 'test').messageId).toBe(10391);
  });

  it('an integer past 2^53 in a field nobody reads changes nothing, in the envelope or a job message', () => {
    const body = JSON.stringify([
      job('JobAvailable', 1, { acquireJobUrl: 'u' }),
      // runnerId is not a field of JobAvailable: unknown to it, so harmless.
      job('JobAvailable', 2, { acquireJobUrl: 'u', runnerId: 7 }),
      job('JobStarted', 3, { runnerId: 17, runnerName: 'r-3' }),
    ])
      .replaceAll('{"messageType":', '{"planId":18446744073709551615,"messageType":')
      .replace('"runnerId":7', '"runnerId":9223372036854775807');
    const text = JSON.stringify({
      messageId: 10391,
      messageType: 'RunnerScaleSetJobMessages',
      body,
      statistics: STATS,
    }).replace(/^\{/, '{"traceSequence":18446744073709551615,');
    const msg = decodeScaleSetMessage(text, 'test');
    expect(msg.jobAvailable.map((j) => j.runnerRequestId)).toEqual([1, 2]);
    expect(msg.jobStarted.map((j) => j.runnerId)).toEqual([17]);
    expect(msg.invalidJobMessages).toEqual([]);
  });

  it('a job message that cannot be read is left out alone, with its index, type, request id and reason', () => {
    const body = JSON.stringify([
      job('JobAvailable', 1, { acquireJobUrl: 'u' }),
      job('JobAvailable', 2, { acquireJobUrl: 'u' }),
      job('JobStarted', 3, { runnerId: 5, runnerName: 'r-3' }),
      job('JobCompleted', 4, { runnerId: 6, runnerName: 'r-4', result: 'succeeded' }),
      job('JobStarted', 5, { runnerId: 7, runnerName: 'r-5', queueTime: 'yesterday' }),
      job('JobAssigned', 6, { runnerRequestId: '6' }),
      1,
    ])
      .replace('"runnerRequestId":2', '"runnerRequestId":9007199254740993')
      .replace('"runnerId":6', '"runnerId":9007199254740993');
    const msg = decodeScaleSetMessage(envelope(body), 'test');
    expect(msg.jobAvailable.map((j) => j.runnerRequestId)).toEqual([1]);
    expect(msg.jobStarted.map((j) => j.runnerRequestId)).toEqual([3]);
    expect(msg.jobCompleted).toEqual([]);
    expect(msg.jobAssigned).toEqual([]);
    expect(msg.invalidJobMessages).toEqual([
      {
        index: 1,
        messageType: 'JobAvailable',
        reason: expect.stringMatching(/^runnerRequestId: integer beyond/),
      },
      {
        index: 3,
        messageType: 'JobCompleted',
        runnerRequestId: 4,
        reason: expect.stringMatching(/^runnerId: integer beyond/),
      },
      {
        index: 4,
        messageType: 'JobStarted',
        runnerRequestId: 5,
        reason: expect.stringMatching(/^queueTime/),
      },
      { index: 5, messageType: 'JobAssigned', reason: expect.stringMatching(/^runnerRequestId: /) },
      { index: 6, reason: 'not an object' },
    ]);
  });
});
