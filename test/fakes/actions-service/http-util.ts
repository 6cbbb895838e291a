import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export type Api = 'github' | 'actions' | 'queue' | 'runner';

/**
 * Sends a response with the correlation header of the API the route belongs to (spec §11.5): GitHub
 * API responses carry X-GitHub-Request-Id, Actions service and queue responses ActivityId.
 */
export function send(
  res: ServerResponse,
  api: Api,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const h: Record<string, string> = { ...correlation(api), ...headers };
  if (body === undefined) {
    res.writeHead(status, h);
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  h['content-type'] ??=
    typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(status, h);
  res.end(text);
}

export function correlation(api: Api): Record<string, string> {
  if (api === 'github') return { 'x-github-request-id': `FAKE:${randomUUID().slice(0, 8).toUpperCase()}` };
  if (api === 'actions' || api === 'queue') return { activityid: randomUUID() };
  return {};
}

/** The VSS exception body the Actions service answers errors with (spec §9.1). */
export function exception(typeName: string, message: string): { typeName: string; message: string } {
  return { typeName: `GitHub.Actions.Runtime.WebApi.${typeName}, GitHub.Actions.Runtime.WebApi`, message };
}

/** Agent (runner) errors come from the older DistributedTask API, with its namespace. */
export function taskException(typeName: string, message: string): { typeName: string; message: string } {
  return { typeName: `GitHub.DistributedTask.WebApi.${typeName}, GitHub.DistributedTask.WebApi`, message };
}

export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

/** A JSON object body, or undefined (and a 400 sent) when the body is not one. Empty means `{}`. */
export function jsonObject(body: string, res: ServerResponse, api: Api): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body || '{}');
  } catch {
    v = undefined;
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  send(res, api, 400, exception('ArgumentException', 'the request body is not a JSON object'));
  return undefined;
}
