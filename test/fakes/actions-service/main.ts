import { parseArgs } from 'node:util';
import { startFakeActionsService } from './index.js';

/** Standalone: `node --import tsx test/fakes/actions-service/main.ts --port 0` for manual runs and benchmarks. */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'hold-ms': { type: 'string', default: '50000' },
  },
});
const fake = await startFakeActionsService({
  port: Number(values.port),
  host: values.host,
  holdMs: Number(values['hold-ms']),
});
process.stdout.write(`${JSON.stringify({ url: fake.url, configUrl: fake.configUrl(), pat: fake.pat })}\n`);
const stop = () => void fake.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
