export { type DoctorCommandOptions, doctorCommand } from './command.js';
export { type DoctorOptions, type DoctorReport, diagnose } from './diagnose.js';
export { type Liveness, probeDaemon } from './liveness.js';
export { BLIND_SPOTS, renderDoctor } from './render.js';
export type { Finding, FindingKind, FixOutcome, ScaleSetInspection } from './types.js';
