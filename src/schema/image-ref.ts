/**
 * Image references as the engines read them. A reference the engine cannot parse never works, and
 * worse, some fail in a way that looks transient: Node refuses to send a request path with a space or
 * a quote in it ("Request path contains unescaped characters"), which a start retries forever. So a
 * `runner-image` is checked against the grammar here, at config time, where the key can be named.
 */

// The grammar of github.com/distribution/reference (what `docker pull` accepts), piece by piece.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[[a-fA-F0-9:]+\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[_.]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?(${REMOTE_NAME})(?::${TAG})?(?:@${DIGEST})?$`);
const NAME = new RegExp(`^((?:${DOMAIN}/)?${REMOTE_NAME})`);

/** The name part of a reference may be at most 255 characters (the registry API's limit). */
const NAME_MAX = 255;

/** True for what `docker pull` accepts: `ubuntu`, `ghcr.io/org/img:tag`, `localhost:5000/x@sha256:…`. */
export function isImageReference(ref: string): boolean {
  if (!REFERENCE.test(ref)) return false;
  const name = NAME.exec(ref)?.[1] ?? ref;
  return name.length <= NAME_MAX;
}

export const IMAGE_REFERENCE_EXPECTED =
  'an image reference like "ghcr.io/actions/actions-runner:latest" (lower-case name, optional registry, :tag and @digest)';

/**
 * A local Tart VM name: what `tart clone` and `tart run` take as a directory name under TART_HOME.
 * Letters, digits and `.`, `_`, `-` (and `:` for a tag-like suffix), starting with a letter or digit:
 * nothing a shell, a path or tart's own remote-name parser would read differently.
 */
const TART_LOCAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$/;

/** A Tart image: an OCI reference (it has a "/", so `tart pull` fetches it) or a local VM name. */
export function isTartImage(ref: string): boolean {
  return ref.includes('/') ? isImageReference(ref) : TART_LOCAL_NAME.test(ref);
}

export const TART_IMAGE_EXPECTED =
  'an OCI image reference like "ghcr.io/cirruslabs/macos-sequoia-xcode:latest", or the name of a local VM (letters, digits, ".", "_", "-")';
