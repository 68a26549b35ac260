/**
 * The protected-sequential pattern (Apache Curator's "protection"): a sequential create
 * whose reply is lost to a ConnectionLoss has an unknown outcome; the node may exist
 * with a name the client never learned. So the name carries a fresh GUID —
 * `<parent>/_c_<uuid>-<name><sequence>` — and after a ConnectionLoss the client lists the
 * parent and looks for a child starting with `_c_<uuid>-`: found means the create
 * happened; not found means it can be retried safely.
 */
import type { Random } from '../runtime/random.js';
import { basenameOf, parentOf } from './paths.js';

/** Curator's prefix of protected names. */
export const PROTECTED_PREFIX = '_c_';

/** A version-4 UUID drawn from `random` (deterministic under a seeded Random). */
export function randomUuid(random: Random): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = random.int(256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `/a/b/lock-` with id `u` → `/a/b/_c_u-lock-`. */
export function protectedPath(path: string, id: string): string {
  const parent = parentOf(path);
  const name = `${PROTECTED_PREFIX}${id}-${basenameOf(path)}`;
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The child of `children` created under protection id `id`, if any. */
export function findProtectedChild(children: readonly string[], id: string): string | undefined {
  const prefix = `${PROTECTED_PREFIX}${id}-`;
  return children.find((child) => child.startsWith(prefix));
}
