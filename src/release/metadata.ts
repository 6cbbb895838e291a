import semver from 'semver';
import { z } from 'zod';

/** `latest.json`, uploaded with every release. Only `version` is required; the rest is for people. */
const metadataSchema = z.object({
  version: z.string().refine((v) => semver.valid(v) !== null, 'must be a semantic version like 1.2.3'),
  commit: z.string().optional(),
  date: z.string().optional(),
});

export type ReleaseMetadata = z.infer<typeof metadataSchema>;

export function parseReleaseMetadata(text: string, source: string): ReleaseMetadata {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${source} is not JSON (first bytes: ${JSON.stringify(text.slice(0, 60))})`);
  }
  const parsed = metadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return { ...parsed.data, version: semver.clean(parsed.data.version) ?? parsed.data.version };
}

export function renderReleaseMetadata(meta: ReleaseMetadata): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}
