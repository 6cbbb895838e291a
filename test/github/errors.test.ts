import { describe, expect, it } from 'vitest';
import { responseError } from '../../src/github/error-body.js';
import {
  ActionsServiceError,
  actionsErrorKind,
  isJobStillRunning,
  isRunnerExists,
  isRunnerNotFound,
  isScaleSetNotFound,
  isSessionConflict,
  isSessionExpired,
  MessageQueueTokenExpiredError,
  RetriesExhaustedError,
  TokenRefreshError,
} from '../../src/github/index.js';

function httpError(overrides: Partial<ConstructorParameters<typeof ActionsServiceError>[0]> = {}) {
  return new ActionsServiceError({
    method: 'POST',
    url: 'https://broker/rest/_apis/runtime/runnerscalesets/1/sessions?api-version=6.0-preview',
    status: 409,
    statusText: 'Conflict',
    detail: 'already has an active session',
    body: '',
    ...overrides,
  });
}

describe('error classes', () => {
  it('§13.19 formats the request, status and correlation ids like the Go client', () => {
    const err = httpError({
      typeName:
        'GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionConflictException, GitHub.Actions.Runtime.WebApi',
      activityId: 'act-1',
      githubRequestId: 'gh-1',
    });
    expect(err.message).toBe(
      'request POST https://broker/rest/_apis/runtime/runnerscalesets/1/sessions?api-version=6.0-preview ' +
        'failed(status="409 Conflict", activity_id="act-1", github_request_id="gh-1"): ' +
        'GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionConflictException, GitHub.Actions.Runtime.WebApi: already has an active session',
    );
    expect(httpError({ status: 404, statusText: 'Not Found', detail: 'unknown error' }).message).toMatch(
      /failed\(status="404 Not Found"\): unknown error$/,
    );
  });

  it('wrappers name what failed', () => {
    expect(new RetriesExhaustedError('GET', 'https://x/y', 5, 503, httpError()).message).toMatch(
      /^GET https:\/\/x\/y giving up after 5 attempt\(s\): request POST/,
    );
    expect(new TokenRefreshError(new Error('boom')).message).toBe(
      'failed to issue update token if needed: boom',
    );
  });
});

describe('error bodies (§9.1)', () => {
  const res = (body: string, headers: Record<string, string> = {}) => ({
    method: 'DELETE',
    url: 'https://x/_apis/y',
    status: 400,
    statusText: 'Bad Request',
    headers,
    body: Buffer.from(body),
  });

  it('reads typeName and message from a JSON exception, ignoring other keys', () => {
    const err = responseError(
      res(
        '{"$id":"1","typeName":"CSharpExceptionNameHere","message":"could not do something","errorCode":0}',
        {
          'content-type': 'application/json',
          activityid: 'a-1',
        },
      ),
    );
    expect(err).toMatchObject({
      typeName: 'CSharpExceptionNameHere',
      detail: 'could not do something',
      activityId: 'a-1',
    });
  });

  it('accepts {"message"} alone', () => {
    expect(responseError(res('{"message":"test error"}')).message).toMatch(/: test error$/);
  });

  it('uses a text/plain body verbatim', () => {
    const err = responseError(
      res('example plain text error', { 'content-type': 'text/plain; charset=utf-8' }),
    );
    expect(err.typeName).toBeUndefined();
    expect(err.message).toMatch(/failed\(status="400 Bad Request"\): example plain text error$/);
  });

  it('says "unknown error" for an empty body', () => {
    expect(responseError(res('')).detail).toBe('unknown error');
  });

  it('quotes a non-JSON body under a JSON content type', () => {
    expect(responseError(res('<html>', { 'content-type': 'application/json' })).detail).toBe(
      'failed to unmarshal error response body: <html>',
    );
  });

  it('prefixes what the client was doing', () => {
    expect(
      responseError(res('{"message":"Bad credentials"}'), 'failed to get runner registration token').message,
    ).toMatch(/: failed to get runner registration token: Bad credentials$/);
  });
});

describe('error kinds (§9.2)', () => {
  it.each([
    [
      'GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionConflictException, X',
      isSessionConflict,
      'SessionConflict',
    ],
    [
      'GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionExpiredException',
      isSessionExpired,
      'SessionExpired',
    ],
    ['GitHub.Actions.Runtime.WebApi.RunnerScaleSetNotFoundException', isScaleSetNotFound, 'ScaleSetNotFound'],
    ['GitHub.DistributedTask.WebApi.AgentExistsException', isRunnerExists, 'RunnerExists'],
    ['GitHub.DistributedTask.WebApi.AgentNotFoundException', isRunnerNotFound, 'RunnerNotFound'],
    ['GitHub.DistributedTask.WebApi.JobStillRunningException', isJobStillRunning, 'JobStillRunning'],
  ])('typeName containing %s', (typeName, predicate, kind) => {
    const err = httpError({ typeName, status: 400, url: 'https://x/_apis/other' });
    expect(predicate(err)).toBe(true);
    expect(actionsErrorKind(err)).toBe(kind);
    // Also found behind a wrapper.
    expect(predicate(new RetriesExhaustedError('GET', 'u', 5, 400, err))).toBe(true);
  });

  it('a bare 409 on POST …/sessions is a session conflict; elsewhere it is not', () => {
    expect(isSessionConflict(httpError())).toBe(true);
    expect(
      isSessionConflict(httpError({ url: 'https://x/_apis/runtime/runnerscalesets/1/generatejitconfig' })),
    ).toBe(false);
    expect(isSessionConflict(new Error('409'))).toBe(false);
  });

  it('a queue 401 after refresh is MessageQueueTokenExpired', () => {
    expect(actionsErrorKind(new MessageQueueTokenExpiredError('GET', 'u', httpError({ status: 401 })))).toBe(
      'MessageQueueTokenExpired',
    );
  });
});
