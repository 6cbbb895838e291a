'use strict';
// Entry point of the single executable. Node 24's SEA main script must be CommonJS, while runner is
// ESM with top-level await, so this loader serves the embedded ESM bundle to the normal ESM loader
// under a file: URL next to the executable (short, readable stack traces) and imports it.
const { getAsset } = require('node:sea');
const { registerHooks } = require('node:module');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const source = getAsset('runner.mjs', 'utf8');
const url = pathToFileURL(`${process.execPath}/runner.mjs`).href;

registerHooks({
  resolve(specifier, context, next) {
    return specifier === url ? { url, format: 'module', shortCircuit: true } : next(specifier, context);
  },
  load(target, context, next) {
    return target === url ? { format: 'module', source, shortCircuit: true } : next(target, context);
  },
});

// import() is unavailable in an injected CommonJS main script; a vm.Script with the default loader
// is the supported way around it. Its one-time "experimental" notice is noise for a CLI's users.
const emitWarning = process.emitWarning;
process.emitWarning = function filtered(warning, ...rest) {
  if (String(warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
  return emitWarning.call(process, warning, ...rest);
};
let loaded;
try {
  loaded = new vm.Script(`import(${JSON.stringify(url)})`, {
    filename: 'runner-sea-loader',
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }).runInThisContext();
} finally {
  process.emitWarning = emitWarning;
}
loaded.catch((err) => {
  process.stderr.write(`${err?.stack ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
