import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPlist } from '../../src/service/launchd/plist.js';
import { renderLaunchdPlist } from '../../src/service/launchd/runner-plist.js';
import { defaultServicePaths } from '../../src/service/paths.js';
import type { ServicePlan } from '../../src/service/plan.js';
import { planService } from '../../src/service/planner.js';

/** Parses with Python's plistlib (the same XML plist format launchd reads) and returns it as JSON. */
function parsePlist(xml: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'python3',
      ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'],
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin?.end(xml);
  });
}

function darwinPlan(home: string, env: NodeJS.ProcessEnv = {}): ServicePlan {
  return planService({
    manager: 'launchd',
    scope: 'user',
    runnerVersion: '1.2.3',
    home,
    paths: defaultServicePaths('launchd', 'user', home, {}),
    execStart: ['/opt/homebrew/bin/runner'],
    facts: { backends: ['tart'], drainTimeoutMs: 60_000 },
    serviceUserAvailable: false,
    dockerGroupExists: false,
    env,
  }).plan;
}

describe('launchd plist', () => {
  it('is a valid plist that starts runner through the env-file wrapper, with PATH and TART_HOME', async () => {
    const plan = darwinPlan('/Users/ci', { TART_HOME: '/Volumes/fast/tart' });
    const parsed = (await parsePlist(renderLaunchdPlist(plan))) as Record<string, unknown>;
    expect(parsed.Label).toBe('runner.autoscaler');
    const args = parsed.ProgramArguments as string[];
    expect(args.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(args.slice(4)).toEqual([
      '/Users/ci/.config/runner/runner.env',
      '/opt/homebrew/bin/runner',
      'run',
      '--config',
      '/Users/ci/.config/runner/config.toml',
    ]);
    const env = parsed.EnvironmentVariables as Record<string, string>;
    expect(env.PATH!.split(':')).toContain('/opt/homebrew/bin');
    expect(env.TART_HOME).toBe('/Volumes/fast/tart');
    // The config sets no state-dir: the daemon is pointed at the directory the job works in.
    expect(env.RUNNER_STATE_DIR).toBe('/Users/ci/Library/Application Support/runner');
    // Secrets never go into the plist: only the env file's path does.
    expect(Object.keys(env).sort()).toEqual(['PATH', 'RUNNER_STATE_DIR', 'TART_HOME']);
    expect(parsed.KeepAlive).toEqual({ SuccessfulExit: false });
    expect(parsed.RunAtLoad).toBe(true);
    expect(parsed.ExitTimeOut).toBeGreaterThan(60);
    expect(parsed.StandardOutPath).toBe('/Users/ci/Library/Logs/runner/runner.log');
    expect(parsed.StandardErrorPath).toBe('/Users/ci/Library/Logs/runner/runner.log');
    expect(parsed.WorkingDirectory).toBe('/Users/ci/Library/Application Support/runner');
  });

  it('the wrapper exports the env file and execs the command with its arguments intact', async () => {
    const plan = darwinPlan('/Users/ci');
    const parsed = (await parsePlist(renderLaunchdPlist(plan))) as { ProgramArguments: string[] };
    const [sh, flag, script, name] = parsed.ProgramArguments;
    const dir = await mkdtemp(join(tmpdir(), 'runner-wrap-'));
    try {
      const envFile = join(dir, 'runner.env');
      await writeFile(envFile, "# comment\nRUNNER_TOKEN='tok en'\n");
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          sh!,
          [
            flag!,
            script!,
            name!,
            envFile,
            '/bin/sh',
            '-c',
            'printf "%s|%s" "$RUNNER_TOKEN" "$1"',
            'x',
            'a b',
          ],
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      expect(out).toBe('tok en|a b');
      // A missing env file is not an error: the service still starts.
      const bare = await new Promise<string>((resolve, reject) =>
        execFile(
          sh!,
          [flag!, script!, name!, join(dir, 'missing.env'), '/bin/echo', 'started'],
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      expect(bare).toBe('started\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('escapes XML in every string and key', async () => {
    const xml = renderPlist({ 'a<b': 'x & y </string> "z"', list: ['<>', 1, true] });
    expect(await parsePlist(xml)).toEqual({ 'a<b': 'x & y </string> "z"', list: ['<>', 1, true] });
    expect(() => renderPlist({ bad: 'nul\u0000' })).toThrow(/control character/);
  });
});
