/**
 * The registration URL of a scale set: `https?://host/org`, `/org/repo` or `/enterprises/name`
 * (docs/protocol.md §1.1). Checked here so a typo fails at start-up with the key named, not
 * later as a 404 from the registration endpoint.
 */
export const URL_EXPECTED =
  'the URL of an org, repo or enterprise, e.g. "https://github.com/my-org" or "https://github.com/my-org/my-repo"';

/** The URL with slashes trimmed as the protocol client trims them, or undefined when unusable. */
export function normalizeConfigUrl(text: string): string | undefined {
  const trimmed = text.trim().replace(/^\/+|\/+$/g, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  // Credentials belong in `token`, and a query or fragment would be sent to GitHub verbatim.
  if (url.username || url.password || url.search || url.hash || !url.hostname) return undefined;
  const segments = url.pathname.split('/').filter((s) => s.length > 0);
  if (segments.length < 1 || segments.length > 2) return undefined;
  if (segments.length === 1 && segments[0]?.toLowerCase() === 'enterprises') return undefined;
  return trimmed;
}
