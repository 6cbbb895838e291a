import { scrub } from '../secret.js';
import { ActionsServiceError } from './errors.js';
import { bodyText, canonicalizeKeys, isPlainObject } from './json.js';

/** What `responseError` needs of a response; HttpResponse satisfies it. */
export interface ErrorResponse {
  method: string;
  url: string;
  status: number;
  statusText: string;
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

/** Error bodies can be whole HTML pages from a proxy; the head is enough to diagnose. */
const MAX_BODY_CHARS = 4096;

/** Builds the §9.1 error for an unexpected status, parsing the body by its content type. */
export function responseError(res: ErrorResponse, context?: string): ActionsServiceError {
  const text = scrub(bodyText(res.body));
  const { typeName, detail } = parseErrorBody(text, res.headers['content-type'] ?? '');
  return new ActionsServiceError({
    method: res.method,
    url: res.url,
    status: res.status,
    statusText: res.statusText,
    typeName,
    detail,
    activityId: res.headers.activityid,
    githubRequestId: res.headers['x-github-request-id'],
    body: truncate(text),
    context,
  });
}

export function parseErrorBody(text: string, contentType: string): { typeName?: string; detail: string } {
  if (text.trim() === '') return { detail: 'unknown error' };
  if (contentType.toLowerCase().includes('text/plain')) return { detail: truncate(text) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { detail: `failed to unmarshal error response body: ${truncate(text)}` };
  }
  if (!isPlainObject(json)) return { detail: `failed to unmarshal error response body: ${truncate(text)}` };
  const { typeName, message } = canonicalizeKeys(json, ['typeName', 'message']) as Record<string, unknown>;
  const name = typeof typeName === 'string' && typeName !== '' ? typeName : undefined;
  const detail = typeof message === 'string' ? message : '';
  return name === undefined ? { detail: detail || truncate(text) } : { typeName: name, detail };
}

function truncate(text: string): string {
  return text.length > MAX_BODY_CHARS ? `${text.slice(0, MAX_BODY_CHARS)}…(truncated)` : text;
}
