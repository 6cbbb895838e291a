/**
 * The kernel beneath everything: errors with literal codes, cancellation, time, events, background work.
 * It imports nothing from the rest of the project, so any module (backends included) may depend on it.
 */
export {
  anySignal,
  delay,
  isAbortError,
  onAbort,
  raceAbort,
  settleWithin,
  sleepUnref,
} from './abort.js';
export { AnswerWatch, type CallOutcome, type Silence } from './answers.js';
export { Alarm, type Clock, systemClock, wakeAt } from './clock.js';
export { errorCode, errorMessage, RunnerError } from './errors.js';
export { EventHub, type EventHubOptions } from './events.js';
export { Once } from './once.js';
export { TaskTracker } from './tasks.js';
