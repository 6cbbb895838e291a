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

/** Sends JSON with the correlation header of the API the route belongs to (spec §11.5). */
export function send(
  res: ServerResponse,
  api: Api,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const h: Record<string, string> = { ...headers };
  if (api === 'github') h['x-github-request-id'] = `FAKE:${randomUUID().slice(0, 8)}`;
  if (api === 'actions' || api === 'queue') h.activityid = randomUUID();
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

export function exception(typeName: string, message: string): { typeName: string; message: string } {
  return { typeName: `GitHub.Actions.Runtime.WebApi.${typeName}, GitHub.Actions.Runtime.WebApi`, message };
}

export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}
