#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * The npm bin. It imports nothing but the Node version check: ESM evaluates every static import before
 * the importing module's own code, so a dependency that crashes on an old Node (undici does, on Node
 * 20) would crash before any check written below it. The CLI loads only once the check has passed.
 */
import { unsupportedNode } from '../src/node-check.js';

const refusal = unsupportedNode();
if (refusal === undefined) {
  await import('./cli.js');
} else {
  process.stderr.write(`error: ${refusal}\n`);
  process.exitCode = 1;
}
