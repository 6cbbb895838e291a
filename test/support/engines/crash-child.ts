// A test process that dies without cleaning up: it starts a private engine with a running container,
// says where, and waits to be killed (test/backends/docker-fleet-engines.test.ts).
import { FAKE_IMAGE } from '../../setup/docker.js';
import { PrivateEngine } from './dockerd.js';

const engine = await PrivateEngine.start({ images: [FAKE_IMAGE] });
const container = await engine.docker.createContainer({ Image: FAKE_IMAGE, Cmd: ['sleep', '600'] });
await container.start();
const { State } = await container.inspect();
process.stdout.write(
  `${JSON.stringify({ dir: engine.dir, bridge: engine.bridge.name, dockerd: engine.pid, container: State.Pid })}\n`,
);
setInterval(() => {}, 1 << 30);
