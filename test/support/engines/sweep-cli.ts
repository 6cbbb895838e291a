// `node --import tsx test/support/engines/sweep-cli.ts`: removes what private engines of dead test
// processes left (.ci/run runs it after the tests). Never touches a live process's engines.
import { sweepLeftovers } from './sweep.js';

const swept = await sweepLeftovers();
for (const dir of swept.dirs) console.log(`removed private engine ${dir}`);
for (const bridge of swept.bridges) console.log(`deleted bridge ${bridge}`);
