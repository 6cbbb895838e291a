import { Writable } from 'node:stream';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { scrub } from './secret.js';

export type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'text';

/** Keys whose values are secrets wherever they appear in a log object. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'pat',
  'jitConfig',
  '*.jitConfig',
  'encodedJITConfig',
  '*.encodedJITConfig',
  'privateKey',
  '*.privateKey',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'messageQueueAccessToken',
  '*.messageQueueAccessToken',
  'env.ACTIONS_RUNNER_INPUT_JITCONFIG',
];

/**
 * Wraps a destination so each serialized line passes through `scrub()`: secrets registered at runtime
 * (tokens, JIT configs) are removed even from free-text messages and error stacks.
 */
export function scrubbingStream(dest: DestinationStream | NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const line = scrub(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      (dest as NodeJS.WritableStream).write(line);
      cb();
    },
  });
}

export interface CreateLoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Defaults to stderr; tests pass a sink. */
  destination?: DestinationStream | NodeJS.WritableStream;
  base?: Record<string, unknown>;
}

export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: opts.base ?? {},
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  const dest = opts.destination ?? process.stderr;
  if (opts.format === 'text') return pino(options, scrubbingStream(textStream(dest)));
  return pino(options, scrubbingStream(dest));
}

/** A compact human format: `time LEVEL [scaleSet/runner] msg key=value …`. */
function textStream(dest: DestinationStream | NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const raw = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      for (const line of raw.split('\n')) {
        if (!line) continue;
        (dest as NodeJS.WritableStream).write(`${formatText(line)}\n`);
      }
      cb();
    },
  });
}

export function formatText(jsonLine: string): string {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const { time, level, msg, scaleSet, runner, ...rest } = obj;
  const ctx = [scaleSet, runner].filter((v) => typeof v === 'string').join('/');
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return [time, String(level).toUpperCase().padEnd(5), ctx ? `[${ctx}]` : '', msg, extras]
    .filter((s) => s !== '' && s !== undefined)
    .join(' ');
}

/** A logger that discards everything: the null object for components given no logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
