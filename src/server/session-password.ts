/**
 * Session passwords. A client proves it owns a session by presenting the 16-byte
 * password from its ConnectResponse; every server of the ensemble must verify it without
 * storing it, so the password is derived from the session id.
 *
 * Two derivations:
 * - ZooKeeper's own (the default): `java.util.Random(sessionId ^ 0xB3415C00).nextBytes(16)`
 *   (`ZooKeeperServer.generatePasswd`). Byte-for-byte parity with Apache ZooKeeper, but
 *   anyone who knows a session id can compute its password, exactly as with ZooKeeper.
 * - With an ensemble secret: the first 16 bytes of HMAC-SHA256(secret, sessionId), which
 *   only servers holding the secret can produce.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SessionId } from '../protocol/records.js';

const JAVA_MULTIPLIER = 0x5deece66dn;
const JAVA_ADDEND = 0xbn;
const MASK_48 = (1n << 48n) - 1n;
const SUPER_SECRET = 0xb3415c00n;

/** Password length used by ZooKeeper and every client. */
export const PASSWORD_LENGTH = 16;

/** `java.util.Random(seed).nextBytes(length)`, reproduced exactly. */
export function javaRandomBytes(seed: bigint, length: number): Uint8Array {
  let state = (BigInt.asIntN(64, seed) ^ JAVA_MULTIPLIER) & MASK_48;
  const nextInt = (): number => {
    state = (state * JAVA_MULTIPLIER + JAVA_ADDEND) & MASK_48;
    return Number(BigInt.asIntN(32, state >> 16n));
  };
  const out = new Uint8Array(length);
  for (let i = 0; i < length; ) {
    let value = nextInt();
    for (let n = Math.min(length - i, 4); n > 0; n--) {
      out[i++] = value & 0xff;
      value >>= 8;
    }
  }
  return out;
}

/** The password of `sessionId`, derived as described above. */
export function sessionPassword(sessionId: SessionId, secret?: Uint8Array | string): Uint8Array {
  if (secret === undefined) return javaRandomBytes(BigInt.asIntN(64, sessionId) ^ SUPER_SECRET, PASSWORD_LENGTH);
  const id = Buffer.alloc(8);
  id.writeBigInt64BE(BigInt.asIntN(64, sessionId));
  return new Uint8Array(createHmac('sha256', secret).update(id).digest().subarray(0, PASSWORD_LENGTH));
}

/** True iff `password` is the password of `sessionId` (a session id of 0 never validates). */
export function checkSessionPassword(sessionId: SessionId, password: Uint8Array, secret?: Uint8Array | string): boolean {
  if (sessionId === 0n || password.length !== PASSWORD_LENGTH) return false;
  return timingSafeEqual(password, sessionPassword(sessionId, secret));
}
