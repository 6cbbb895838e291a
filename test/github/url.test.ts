import { describe, expect, it } from 'vitest';
import {
  actionsServiceUrl,
  encodeQuery,
  joinPath,
  messageAckUrl,
  messagePollUrl,
  redactUrl,
} from '../../src/github/url.js';
import { registerSecret } from '../../src/secret.js';

describe('Actions-service URLs (§3.1)', () => {
  it('keeps the base path prefix and collapses duplicate slashes', () => {
    expect(joinPath('/tenant/123/', '/my/path')).toBe('/tenant/123/my/path');
    expect(joinPath('/tenant/123', 'my//path')).toBe('/tenant/123/my/path');
    expect(joinPath('/', '_apis/x')).toBe('/_apis/x');
  });

  it('keeps a trailing slash on the logical path only', () => {
    expect(joinPath('/tenant/123/', '_apis/runtime/runnergroups/')).toBe(
      '/tenant/123/_apis/runtime/runnergroups/',
    );
    expect(joinPath('/tenant/123/', '_apis/runtime/runnerscalesets')).toBe(
      '/tenant/123/_apis/runtime/runnerscalesets',
    );
  });

  it('sorts the query, adds api-version and form-encodes values', () => {
    expect(
      actionsServiceUrl('http://h/tenant/123/', '_apis/runtime/runnerscalesets', {
        runnerGroupId: '1',
        name: 'ScaleSet',
      }),
    ).toBe(
      'http://h/tenant/123/_apis/runtime/runnerscalesets?api-version=6.0-preview&name=ScaleSet&runnerGroupId=1',
    );
    expect(actionsServiceUrl('http://h/t/', '_apis/x', { name: 'a b&c#d%e/f' })).toBe(
      'http://h/t/_apis/x?api-version=6.0-preview&name=a+b%26c%23d%25e%2Ff',
    );
  });

  it('merges the base query and keeps an api-version already there', () => {
    expect(actionsServiceUrl('http://h/t/?z=1&api-version=7.0', '_apis/x', { a: '2' })).toBe(
      'http://h/t/_apis/x?a=2&api-version=7.0&z=1',
    );
  });

  it('encodes like Go url.Values (RFC 3986 unreserved kept, the rest escaped)', () => {
    expect(encodeQuery(new URLSearchParams([['k', "-_.~!'()* "]]))).toBe('k=-_.~%21%27%28%29%2A+');
  });
});

describe('message queue URLs (§6.1, §6.4, §13.30)', () => {
  it('adds lastMessageId only when > 0, merged into the existing query', () => {
    expect(messagePollUrl('https://q/scalesets/message', 0)).toBe('https://q/scalesets/message');
    expect(messagePollUrl('https://q/scalesets/message', 10391)).toBe(
      'https://q/scalesets/message?lastMessageId=10391',
    );
    expect(messagePollUrl('https://q/m?sid=abc&a=1', 5)).toBe('https://q/m?a=1&lastMessageId=5&sid=abc');
    expect(messagePollUrl('https://q/m?sid=abc', 0)).toBe('https://q/m?sid=abc');
  });

  it('acks at <queue path>/<id>, keeping the query', () => {
    expect(messageAckUrl('https://q/scalesets/message', 10391)).toBe('https://q/scalesets/message/10391');
    expect(messageAckUrl('https://q/queue/s1/?x=1', 2)).toBe('https://q/queue/s1/2?x=1');
    expect(messageAckUrl('http://127.0.0.1:99', 1)).toBe('http://127.0.0.1:99/1');
  });
});

describe('redactUrl', () => {
  it('removes userinfo, credential-like query values and registered secrets', () => {
    registerSecret('s3cr3t-path-token');
    expect(redactUrl('https://user:pw@h/p/s3cr3t-path-token?token=abc&sig=def&name=x')).toBe(
      'https://h/p/[Redacted]?name=x&sig=REDACTED&token=REDACTED',
    );
    expect(redactUrl('https://h/p?name=a+b')).toBe('https://h/p?name=a+b');
  });
});
