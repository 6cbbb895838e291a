import { RUNNER_CA_BUNDLE, RUNNER_CA_FILE, type RunnerCaFiles } from '../src/net/runner-network.js';

/**
 * The CA files of a runner on stdin of a guest shell (a Tart VM through `tart exec`, a Dedalus machine
 * through an execution): each file after a marker line, and one awk program that splits the stream
 * into the files. awk rather than a shell loop over thousands of lines; it is in every POSIX system,
 * macOS and busybox included. It reads to the end of stdin, so it must be the stream's last reader.
 */

/** A line no PEM file has: it starts a file whose name follows. */
const MARKER = '#runner-file ';

/** The stream awk splits: `ca.pem`, then `bundle.pem`. */
export function caFilesStream(ca: RunnerCaFiles): string {
  return `${MARKER}${RUNNER_CA_FILE}\n${ca.extra}${MARKER}${RUNNER_CA_BUNDLE}\n${ca.bundle}`;
}

/** Shell command writing the files of the rest of stdin into the directory `$<dirVar>` (which must exist). */
export function splitCaFilesCommand(dirVar: string): string {
  const program = `index($0, "${MARKER}") == 1 { f = dir "/" substr($0, ${MARKER.length + 1}); next } f != "" { print > f }`;
  return `awk -v dir="$${dirVar}" '${program}'`;
}
