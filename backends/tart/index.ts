export { createTartBackend, type TartBackendOptions } from './backend.js';
export { TartCommandError, TartError, type TartErrorCode } from './errors.js';
