/**
 * ACL helpers for applications: ZooKeeper's well-known ACLs (`ZooDefs.Ids`) and the
 * digest scheme's id computation, so an application can write
 * `acl: [digestACL(Perms.ALL, 'alice', 'secret')]` and `addAuth('digest', 'alice:secret')`.
 */
import { createHash } from 'node:crypto';
import { Perms } from '../protocol/constants.js';
import type { ACL, Id } from '../protocol/records.js';

/** `world:anyone`. */
export const ANYONE_ID_UNSAFE: Id = Object.freeze({ scheme: 'world', id: 'anyone' });

/** `auth:` — expanded by the server to every identity the connection authenticated. */
export const AUTH_IDS: Id = Object.freeze({ scheme: 'auth', id: '' });

/** Everyone may do everything. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([Object.freeze({ perms: Perms.ALL, id: ANYONE_ID_UNSAFE })]);

/** The creator's authenticated identities may do everything. */
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([Object.freeze({ perms: Perms.ALL, id: AUTH_IDS })]);

/** Everyone may read. */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([Object.freeze({ perms: Perms.READ, id: ANYONE_ID_UNSAFE })]);

/** The digest id of `user:password`: `user:BASE64(SHA1("user:password"))`. */
export function digestId(user: string, password: string): string {
  const hash = createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64');
  return `${user}:${hash}`;
}

/** An ACL entry granting `perms` to the digest identity `user`/`password`. */
export function digestACL(perms: number, user: string, password: string): ACL {
  return { perms, id: { scheme: 'digest', id: digestId(user, password) } };
}
