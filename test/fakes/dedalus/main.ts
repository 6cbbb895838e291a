/**
 * The fake Dedalus API on its own, for trying the daemon by hand:
 *   node --import tsx test/fakes/dedalus/main.ts [--port 0] [--host 127.0.0.1] [--root DIR] [--api-key KEY]
 *     [--sleep-hold-window-ms 0]
 * Prints one JSON line {"url","apiKey","root"} and serves until SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { startFakeDedalus } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    root: { type: 'string' },
    'api-key': { type: 'string' },
    'sleep-hold-window-ms': { type: 'string', default: '0' },
  },
});
const fake = await startFakeDedalus({
  port: Number(values.port),
  host: values.host,
  sleepHoldWindowMs: Number(values['sleep-hold-window-ms']),
  ...(values.root ? { root: values.root } : {}),
  ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
});
process.stdout.write(`${JSON.stringify({ url: fake.url, apiKey: fake.apiKey, root: fake.root })}\n`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    void fake.close().then(() => process.exit(0));
  });
}
