/**
 * V8 flags runner is started with, wherever it can be: the single binary's execArgv, the npm bin's
 * shebang and the service's ExecStart. A 1 MiB young generation instead of V8's default (up to 16 MiB
 * per semi-space, grown during start-up and kept) saves about 15 MB of resident memory in an idle
 * daemon; the control plane's throughput did not measurably change (npm run bench, figure 4).
 * cmd/runner.ts's shebang repeats these literally (a test keeps the two equal).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
