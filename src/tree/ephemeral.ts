/**
 * What a znode's stored `ephemeralOwner` means (ZooKeeper's `EphemeralType`, §10.6):
 * 0 for a plain persistent node, the container marker, `0xFF…` + TTL for a TTL node,
 * otherwise the owning session id.
 */
import { CONTAINER_EPHEMERAL_OWNER, MAX_TTL, TTL_EPHEMERAL_OWNER_MARK } from '../protocol/constants.js';

/** The kinds of znode an `ephemeralOwner` value encodes. */
export const NodeKind = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  CONTAINER: 2,
  TTL: 3,
} as const;
/** A znode kind. */
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

const HIGH_BYTE = -0x0100000000000000n; // 0xFF00000000000000 as a signed long
const LOW_56 = 0x00ffffffffffffffn;

/** The kind of node a stored `ephemeralOwner` denotes. */
export function nodeKindOf(owner: bigint): NodeKind {
  if (owner === 0n) return NodeKind.PERSISTENT;
  if (owner === CONTAINER_EPHEMERAL_OWNER) return NodeKind.CONTAINER;
  if ((owner & HIGH_BYTE) === TTL_EPHEMERAL_OWNER_MARK) return NodeKind.TTL;
  return NodeKind.EPHEMERAL;
}

/** The stored `ephemeralOwner` of a TTL node (`0xFF00000000000000 | ttl`). */
export function ttlOwner(ttl: number): bigint {
  return TTL_EPHEMERAL_OWNER_MARK | BigInt(ttl);
}

/** The TTL (ms) held in a TTL node's `ephemeralOwner`. */
export function ttlOf(owner: bigint): number {
  return Number(owner & LOW_56);
}

/** True if `ttl` is a valid TTL: `0 < ttl ≤ 2^40 − 1` ms (`EphemeralType.TTL.validateTTL`). */
export function isValidTtl(ttl: number): boolean {
  return Number.isInteger(ttl) && ttl > 0 && ttl <= MAX_TTL;
}

/** The `ephemeralOwner` clients see in a Stat: the session for ephemerals, else 0. */
export function reportedOwner(owner: bigint): bigint {
  return nodeKindOf(owner) === NodeKind.EPHEMERAL ? owner : 0n;
}
