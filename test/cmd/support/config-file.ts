import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { stringify } from 'smol-toml';

/** Writes a config with the TOML serialiser (never a template), mode 0600 like init does. */
export function writeConfig(path: string, config: Record<string, unknown>): string {
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

/** A port nothing listens on right now (bound on port 0, then released). */
export async function unusedPort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
