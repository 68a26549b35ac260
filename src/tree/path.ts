/**
 * Znode path rules and helpers (reference §10.2). Paths are plain strings compared
 * exactly; these helpers never normalise, they only validate and slice.
 */
import { BadArgumentsError } from '../protocol/errors.js';

/** The root path. */
export const ROOT = '/';

/**
 * Validate a znode path exactly as ZooKeeper's `PathUtils.validatePath` does: it must
 * start with `/`, not end with `/` (unless it is `/`), have no empty, `.` or `..`
 * segment, and no NUL, U+0001–U+001F, U+007F–U+009F, U+D800–U+F8FF or U+FFF0–U+FFFF
 * code unit. With `isSequential` the check runs on `path + '1'`, which is how a
 * sequential create may end in `/` (the suffix becomes the last segment's name).
 *
 * @throws BadArgumentsError naming the reason, e.g.
 *   `Invalid path string "/a//b" caused by empty node name specified @3`.
 */
export function validatePath(path: string, isSequential = false): void {
  const reason = pathProblem(isSequential ? path + '1' : path);
  if (reason !== undefined) throw new BadArgumentsError(path, reason);
}

/** True if `validatePath(path, isSequential)` would not throw. */
export function isValidPath(path: string, isSequential = false): boolean {
  return pathProblem(isSequential ? path + '1' : path) === undefined;
}

/** The message ZooKeeper would put in its IllegalArgumentException, or undefined if valid. */
function pathProblem(path: string): string | undefined {
  const length = path.length;
  if (length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (length === 1) return undefined;
  if (path.charCodeAt(length - 1) === 0x2f) return 'Path must not end with / character';

  let reason: string | undefined;
  let last = 0x2f;
  for (let i = 1; i < length; last = path.charCodeAt(i), i++) {
    const c = path.charCodeAt(i);
    if (c === 0) {
      reason = `null character not allowed @${i}`;
    } else if (c === 0x2f && last === 0x2f) {
      reason = `empty node name specified @${i}`;
    } else if (c === 0x2e && last === 0x2e) {
      // `..` as a whole segment (ZooKeeper checks this branch before the single-dot one).
      if (path.charCodeAt(i - 2) === 0x2f && (i + 1 === length || path.charCodeAt(i + 1) === 0x2f)) {
        reason = `relative paths not allowed @${i}`;
      }
    } else if (c === 0x2e) {
      if (path.charCodeAt(i - 1) === 0x2f && (i + 1 === length || path.charCodeAt(i + 1) === 0x2f)) {
        reason = `relative paths not allowed @${i}`;
      }
    } else if (
      (c > 0x0000 && c <= 0x001f) ||
      (c >= 0x007f && c <= 0x009f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      reason = `invalid character @${i}`;
    }
    if (reason !== undefined) return `Invalid path string "${path}" caused by ${reason}`;
  }
  return undefined;
}

/**
 * The parent of a valid, non-root path: `/` for `/a`, `/a` for `/a/b`. The parent of
 * `/` is `/` (callers that must distinguish check for the root first).
 */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? ROOT : path.slice(0, slash);
}

/** The last segment of a path: `b` for `/a/b`, `` for `/`. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Join a parent path and a child name: `/a` + `b` → `/a/b`, `/` + `b` → `/b`. */
export function joinPath(parent: string, name: string): string {
  return parent === ROOT ? ROOT + name : `${parent}/${name}`;
}

/** The number of segments: 0 for `/`, 2 for `/a/b`. */
export function depthOf(path: string): number {
  if (path === ROOT) return 0;
  let depth = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 0x2f) depth++;
  return depth;
}

/**
 * The strict ancestors of a path, nearest first, ending with `/`:
 * `/a/b/c` → `/a/b`, `/a`, `/`. The root has none.
 */
export function* ancestorsOf(path: string): Generator<string, void, undefined> {
  let current = path;
  while (current !== ROOT) {
    current = parentOf(current);
    yield current;
  }
}

/**
 * True if `path` is `ancestor` or lies below it (`/a/b` is under `/a` and under `/`;
 * `/ab` is not under `/a`).
 */
export function isUnder(path: string, ancestor: string): boolean {
  if (ancestor === ROOT) return path.charCodeAt(0) === 0x2f;
  return path === ancestor || (path.startsWith(ancestor) && path.charCodeAt(ancestor.length) === 0x2f);
}
