import { z } from 'zod';
import { canonicalKeysView } from './json.js';
import { parseWireTime, WireTimeError } from './wire-time.js';

/**
 * Building blocks for response decoders. Go's encoding/json turns null or absent fields into zero
 * values and matches keys case-insensitively; these helpers do the same, so a response the Go client
 * accepts is accepted here too, while a wrong type (a string where an id belongs) is still an error.
 */

export const str = z
  .string()
  .nullish()
  .transform((v) => v ?? '');
/**
 * An int64 in Go. zod's int() accepts safe integers only, so a value past 2^53 − 1, which JSON.parse
 * has already rounded (json.ts), fails the field that reads it instead of naming a neighbouring id.
 */
const safeInt = z.number().int({
  error: (iss) =>
    iss.code === 'too_big' || iss.code === 'too_small'
      ? 'integer beyond ±(2^53 − 1): a JavaScript number cannot hold it exactly'
      : undefined,
});

export const int = safeInt.nullish().transform((v) => v ?? 0);
export const bool = z
  .boolean()
  .nullish()
  .transform((v) => v ?? false);
export const strArray = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);
export const intArray = z
  .array(safeInt)
  .nullish()
  .transform((v) => v ?? []);

export const wireTime = z
  .string()
  .nullish()
  .transform((v, ctx): string | null => {
    try {
      return parseWireTime(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof WireTimeError ? err.message : String(err) });
      return z.NEVER;
    }
  });

/** An object schema whose keys are matched case-insensitively; unknown keys are dropped. */
export function wireObject<S extends z.ZodRawShape>(shape: S) {
  const keys = Object.keys(shape);
  return z.preprocess((v) => canonicalKeysView(v, keys), z.object(shape));
}

/** Like `wireObject`, but null/absent yields undefined (Go: a nil pointer). */
export function optionalWireObject<S extends z.ZodRawShape>(shape: S) {
  return wireObject(shape)
    .nullish()
    .transform((v) => v ?? undefined);
}

/** First issue only: one precise complaint reads better in a log line than a dump of all of them. */
export function describeZodError(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid value';
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`;
}
