/**
 * Client-side path handling: validation as the Java client does it before sending
 * (`PathUtils.validatePath`, reference §10.2), and the chroot of a connect string
 * (`/app` in `host:2181/app`), which is prepended to every path sent and stripped from
 * every path received.
 */
import { BadArgumentsError } from '../protocol/errors.js';

/** Why `path` is not a valid znode path, or undefined if it is. */
export function pathProblem(path: string, sequential = false): string | undefined {
  if (typeof path !== 'string') return 'path must be a string';
  // A sequential create may end with '/': the server appends the counter (§10.4).
  const p = sequential ? `${path}1` : path;
  if (p.length === 0) return 'path length must be > 0';
  if (p.charCodeAt(0) !== 0x2f) return 'path must start with /';
  if (p.length === 1) return undefined;
  if (p.charCodeAt(p.length - 1) === 0x2f) return 'path must not end with /';
  let segmentStart = 1;
  for (let i = 1; i <= p.length; i++) {
    const c = i < p.length ? p.charCodeAt(i) : 0x2f;
    if (c === 0x2f) {
      const segment = p.slice(segmentStart, i);
      if (segment.length === 0) return `empty node name at index ${i}`;
      if (segment === '.' || segment === '..') return `relative paths not allowed at index ${segmentStart}`;
      segmentStart = i + 1;
      continue;
    }
    if (c === 0) return `null character not allowed at index ${i}`;
    if (
      (c > 0x00 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `invalid character at index ${i}`;
    }
  }
  return undefined;
}

/** Throw a `BadArgumentsError` (code -8, with the path) unless `path` is valid. */
export function validatePath(path: string, sequential = false): void {
  const problem = pathProblem(path, sequential);
  if (problem !== undefined) throw new BadArgumentsError(path, `Invalid path ${JSON.stringify(path)}: ${problem}`);
}

/** The server path of a client path under `chroot` (undefined: no chroot). */
export function prependChroot(chroot: string | undefined, clientPath: string): string {
  if (chroot === undefined) return clientPath;
  return clientPath === '/' ? chroot : chroot + clientPath;
}

/**
 * The client path of a server path. Paths outside the chroot (which a server should
 * never send) are returned unchanged, as the Java client does.
 */
export function stripChroot(chroot: string | undefined, serverPath: string): string {
  if (chroot === undefined) return serverPath;
  if (serverPath === chroot) return '/';
  if (serverPath.startsWith(chroot) && serverPath.charCodeAt(chroot.length) === 0x2f) return serverPath.slice(chroot.length);
  return serverPath;
}

/** The parent of a (valid, non-root) path: `/a/b` → `/a`, `/a` → `/`. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last segment of a path: `/a/b` → `b`. */
export function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `path` and every ancestor up to `/`, nearest first: `/a/b` → `/a/b`, `/a`, `/`. */
export function* selfAndAncestors(path: string): Generator<string> {
  let p = path;
  for (;;) {
    yield p;
    if (p === '/') return;
    p = parentOf(p);
  }
}
