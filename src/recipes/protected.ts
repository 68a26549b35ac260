/**
 * Protected names (Apache Curator's "protected mode"): a sequential node whose create
 * fails with ConnectionLoss may or may not exist, and the server chose its name. So the
 * recipe prefixes the requested name with a random id, `_c_<uuid>-`, and after an
 * unknown outcome lists the parent and looks for a child with that id: found, the
 * create succeeded (adopt it); not found, create again. Without this, a lost reply
 * leaks an ephemeral node that blocks a lock until the session ends.
 *
 * The format matches Curator's (`_c_` + a 36-character UUID + `-`), so nodes written by
 * Curator and by zoostate recipes on the same paths parse alike.
 */

import { PROTECTED_PREFIX } from '../client/protected.js';

const UUID_LENGTH = 36;
/** `_c_` + uuid + `-`. */
const PROTECTED_HEAD_LENGTH = PROTECTED_PREFIX.length + UUID_LENGTH + 1;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `_c_<id>-<name>`: the name a protected create asks for. `id` must be a UUID. */
export function protectedName(id: string, name: string): string {
  if (!UUID_PATTERN.test(id)) throw new TypeError(`protected id must be a UUID, got ${JSON.stringify(id)}`);
  return `${PROTECTED_PREFIX}${id}-${name}`;
}

/** A protected name, split. */
export interface ProtectedParts {
  /** The UUID of the create that made the node. */
  id: string;
  /** What follows the head: the requested name plus, for sequential nodes, the counter. */
  rest: string;
}

/** Split `_c_<uuid>-rest`; undefined if `name` is not protected. */
export function parseProtectedName(name: string): ProtectedParts | undefined {
  if (name.length < PROTECTED_HEAD_LENGTH || !name.startsWith(PROTECTED_PREFIX)) return undefined;
  if (name.charCodeAt(PROTECTED_HEAD_LENGTH - 1) !== 0x2d /* - */) return undefined;
  const id = name.slice(PROTECTED_PREFIX.length, PROTECTED_HEAD_LENGTH - 1);
  if (!UUID_PATTERN.test(id)) return undefined;
  return { id, rest: name.slice(PROTECTED_HEAD_LENGTH) };
}

/** `name` without a protected head (unchanged if it has none). */
export function stripProtectedPrefix(name: string): string {
  return parseProtectedName(name)?.rest ?? name;
}

/** The child created by the protected create with `id`, if the list holds it. */
export function findProtectedChild(children: readonly string[], id: string): string | undefined {
  const lower = id.toLowerCase();
  return children.find((child) => parseProtectedName(child)?.id.toLowerCase() === lower);
}
