/**
 * The peer handshake of the TCP transport: mutual challenge–response with HMAC-SHA256
 * over both nonces and both server ids, keyed by the shared ensemble secret.
 *
 *   dialer   → acceptor  hello     { t, v, id, nonce }
 *   acceptor → dialer    challenge { t, id, nonce, mac = H("acceptor", Nd, Na, dialer, acceptor) }
 *   dialer   → acceptor  proof     { t, mac = H("dialer", Nd, Na, dialer, acceptor) }
 *   acceptor → dialer    welcome   { t, ok }   ok=false: "I will dial you" (the higher id dials)
 *
 * Each side proves knowledge of the secret over a nonce the other chose, so a replayed
 * transcript is useless; distinct labels stop reflecting one side's MAC back to it.
 * Messages are plain-data values in the peer codec (`encodePlain`), one per frame.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerId } from '../protocol/peer.js';

/** Handshake protocol version. */
export const HANDSHAKE_VERSION = 1;
/** Bytes of each nonce. */
export const NONCE_BYTES = 32;
/** Largest handshake frame accepted. */
export const MAX_HANDSHAKE_FRAME = 1024;

/** dialer → acceptor. */
export interface Hello {
  t: 'hello';
  v: number;
  id: ServerId;
  nonce: Uint8Array;
}
/** acceptor → dialer. */
export interface Challenge {
  t: 'challenge';
  id: ServerId;
  nonce: Uint8Array;
  mac: Uint8Array;
}
/** dialer → acceptor. */
export interface Proof {
  t: 'proof';
  mac: Uint8Array;
}
/** acceptor → dialer. */
export interface Welcome {
  t: 'welcome';
  ok: boolean;
}

/** A fresh random nonce (the I/O edge: OS randomness is right here). */
export function nonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES));
}

/** The MAC one side sends. */
export function handshakeMac(
  secret: Uint8Array,
  label: 'acceptor' | 'dialer',
  dialerNonce: Uint8Array,
  acceptorNonce: Uint8Array,
  dialer: ServerId,
  acceptor: ServerId,
): Uint8Array {
  const h = createHmac('sha256', secret);
  h.update(`zoostate-peer/${HANDSHAKE_VERSION}/${label}/${dialer}/${acceptor}/`);
  h.update(dialerNonce);
  h.update(acceptorNonce);
  return new Uint8Array(h.digest());
}

/** Constant-time MAC comparison. */
export function macEquals(a: Uint8Array, b: unknown): boolean {
  return b instanceof Uint8Array && a.length === b.length && timingSafeEqual(a, b);
}

/** True if `v` is a plain object with `t === tag` (shape checked by the caller). */
export function isMessage<T extends { t: string }>(v: unknown, tag: T['t']): v is T {
  return typeof v === 'object' && v !== null && (v as { t?: unknown }).t === tag;
}

/** A valid server id: a safe integer (ZooKeeper sids are longs; ours are numbers). */
export function isServerId(v: unknown): v is ServerId {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** A valid nonce. */
export function isNonce(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length === NONCE_BYTES;
}
