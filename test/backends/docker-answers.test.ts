import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { callSignal, inspectImage, watchAnswers } from '../../backends/docker/call.js';
import { describe as describeError } from '../../backends/docker/errors.js';
import { dockerOptionsFor } from '../../backends/docker/host.js';
import { AnswerWatch } from '../../src/kernel/answers.js';
import { useDocker } from '../setup/docker.js';
import { DockerProxy } from '../setup/docker-proxy.js';

useDocker();

let proxy: DockerProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

function watched(host: string): { docker: Docker; answers: AnswerWatch } {
  const docker = new Docker(dockerOptionsFor(host));
  const answers = new AnswerWatch();
  watchAnswers(docker, answers);
  return { docker, answers };
}

describe('Docker engine calls and whether the engine answers', () => {
  it('a call past its deadline is no answer, and the request itself is given up', async () => {
    proxy = await DockerProxy.start();
    proxy.stall();
    const { docker, answers } = watched(proxy.host);
    const err = await inspectImage(docker, 'busybox:stalled', callSignal(undefined, 300)).catch((e) => e);
    expect(describeError(err)).toBe('no answer from the Docker engine within 0.3s');
    expect(answers.silence()?.lastError).toBe(
      'GET /images/busybox:stalled/json: no answer from the Docker engine within 0.3s',
    );
    // The client hung up: nothing is left waiting on the engine (that would keep a process alive).
    await expect.poll(() => proxy?.waiting, { timeout: 2_000 }).toBe(0);

    // Any answer, a 404 included, ends the silence.
    proxy.recover();
    const missing = await inspectImage(docker, 'runner-no-such-image:x', callSignal(undefined)).catch(
      (e) => e,
    );
    expect((missing as { statusCode?: number }).statusCode).toBe(404);
    expect(answers.silence()).toBeUndefined();
  });

  it('a call its caller cancels says nothing; an engine that is not there is no answer', async () => {
    proxy = await DockerProxy.start();
    proxy.stall();
    const { docker, answers } = watched(proxy.host);
    const ctl = new AbortController();
    const call = inspectImage(docker, 'busybox:cancelled', ctl.signal).catch((e) => e);
    await expect.poll(() => proxy?.waiting, { timeout: 2_000 }).toBe(1);
    ctl.abort(new Error('shutting down'));
    await call;
    expect(answers.silence()).toBeUndefined();

    const gone = watched(`unix://${join(tmpdir(), 'runner-no-engine-here.sock')}`);
    await expect(inspectImage(gone.docker, 'busybox', callSignal(undefined))).rejects.toThrow(/ENOENT/);
    expect(gone.answers.silence()?.lastError).toMatch(/^GET \/images\/busybox\/json: connect ENOENT/);
  });
});
