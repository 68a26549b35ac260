/**
 * ACLs and authentication (reference §8.3, §10.7): the well-known ACLs, the digest
 * scheme, ACL validation on create/setACL (`PrepRequestProcessor.fixupACL`) and the
 * permission check run on every request (`ZooKeeperServer.checkACL`).
 *
 * Schemes known to the server are those ZooKeeper registers by default: `world`
 * (`anyone` only), `auth` (expanded on create/setACL, never stored), `digest`, `ip`,
 * and `super` (a connection id only, never valid in an ACL).
 */
import { createHash } from 'node:crypto';
import { Perms } from '../protocol/constants.js';
import { AuthFailedError, InvalidACLError } from '../protocol/errors.js';
import type { ACL, Id } from '../protocol/records.js';

/** `world:anyone`. */
export const ANYONE_ID: Readonly<Id> = Object.freeze({ scheme: 'world', id: 'anyone' });

/** `auth:` — stands for every authenticated id of the caller (expanded by `fixupACL`). */
export const AUTH_IDS: Readonly<Id> = Object.freeze({ scheme: 'auth', id: '' });

/** `[ALL world:anyone]`: anyone may do anything. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([Object.freeze({ perms: Perms.ALL, id: ANYONE_ID })]);

/** `[ALL auth:]`: everything for the creator's authenticated ids. */
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([Object.freeze({ perms: Perms.ALL, id: AUTH_IDS })]);

/** `[READ world:anyone]`: anyone may read. */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([Object.freeze({ perms: Perms.READ, id: ANYONE_ID })]);

/** `super:` — the id that passes every ACL check (granted by the super digest). */
export const SUPER_ID: Readonly<Id> = Object.freeze({ scheme: 'super', id: '' });

const utf8 = new TextDecoder('utf-8');

/**
 * The digest id for `user:password`, as `DigestAuthenticationProvider.generateDigest`:
 * `user:BASE64(SHA1("user:password"))` (UTF-8 bytes, standard Base64 with padding).
 * The user part is everything before the first `:` (all of it if there is none).
 */
export function digestId(userColonPassword: string): string {
  const colon = userColonPassword.indexOf(':');
  const user = colon < 0 ? userColonPassword : userColonPassword.slice(0, colon);
  const hash = createHash('sha1').update(userColonPassword, 'utf8').digest('base64');
  return `${user}:${hash}`;
}

/** Options for {@link authenticate}. */
export interface AuthenticateOptions {
  /** `zookeeper.DigestAuthenticationProvider.superDigest`: a digest id granting `super`. */
  superDigest?: string | undefined;
  /** The connection's `ip` id (see {@link ipIdOf}); needed for an auth packet of scheme `ip`. */
  remoteAddress?: string | undefined;
}

/**
 * The ids an auth packet (opcode 100) adds to its connection, in ZooKeeper's order.
 * `digest`: `super:` first when the digest equals `options.superDigest`, then
 * `digest:<digestId>`. `ip`: the connection's own address (ZooKeeper's IP provider
 * ignores the auth data). The caller adds each id unless the connection already has it.
 *
 * @throws AuthFailedError for any other scheme, a null digest (ZooKeeper fails it), or
 *   `ip` without `options.remoteAddress` (the server replies -115 and closes).
 */
export function authenticate(scheme: string, authData: Uint8Array | null, options: AuthenticateOptions = {}): Id[] {
  if (scheme === 'digest' && authData !== null) {
    const digest = digestId(utf8.decode(authData));
    const ids: Id[] = [];
    if (options.superDigest !== undefined && digest === options.superDigest) ids.push({ ...SUPER_ID });
    ids.push({ scheme: 'digest', id: digest });
    return ids;
  }
  if (scheme === 'ip' && options.remoteAddress !== undefined) {
    return [{ scheme: 'ip', id: options.remoteAddress }];
  }
  throw new AuthFailedError(undefined, `no authentication provider for scheme ${JSON.stringify(scheme)}`);
}

/**
 * The `ip` id of a connection from a socket's remote address: IPv4-mapped IPv6
 * (`::ffff:10.0.0.1`, as Node reports on a dual-stack listener) becomes plain IPv4,
 * as Java's `InetAddress.getHostAddress` would give, and an IPv6 zone (`%eth0`) is dropped.
 */
export function ipIdOf(remoteAddress: string): string {
  const zone = remoteAddress.indexOf('%');
  const address = zone < 0 ? remoteAddress : remoteAddress.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** True if the scheme's ids are authenticated identities (`auth` expands to these). */
function isAuthenticatedScheme(scheme: string): boolean {
  return scheme === 'digest';
}

/**
 * `DigestAuthenticationProvider.isValid`: Java's `id.split(":")` (trailing empty
 * strings dropped) must give exactly 2 parts. So `u:h` and `:h` and `u:h:` are valid,
 * `u`, `u:` and `u:h:x` are not.
 */
export function isValidDigestId(id: string): boolean {
  const parts = id.split(':');
  let n = parts.length;
  while (n > 0 && parts[n - 1] === '') n--;
  return n === 2;
}

/** `IPAuthenticationProvider.isValid`: an address (IPv4 or IPv6) with an optional `/bits`. */
export function isValidIpId(id: string): boolean {
  return parseIpExpr(id) !== undefined;
}

/**
 * Validate and expand an ACL for create/setACL, as `PrepRequestProcessor.fixupACL`:
 * duplicates removed (first kept); `world:anyone` kept; `auth` replaced by one entry per
 * authenticated id of the caller (digest ids; ip and super are not authenticated) with
 * the entry's perms; `digest` and `ip` entries kept if their id is valid. Perms are not
 * checked (ZooKeeper accepts any int).
 *
 * @throws InvalidACLError for an empty list, `world` with another id, `auth` when the
 *   caller has no authenticated id, an invalid digest/ip id, or any other scheme.
 */
export function fixupACL(acl: readonly ACL[], authIds: readonly Id[], path?: string): ACL[] {
  const unique: ACL[] = [];
  for (const entry of acl) {
    if (!unique.some((u) => u.perms === entry.perms && u.id.scheme === entry.id.scheme && u.id.id === entry.id.id)) {
      unique.push(entry);
    }
  }
  if (unique.length === 0) throw new InvalidACLError(path, 'InvalidACL: empty ACL');
  const result: ACL[] = [];
  for (const entry of unique) {
    const { scheme, id } = entry.id;
    if (scheme === 'world' && id === 'anyone') {
      result.push(entry);
    } else if (scheme === 'auth') {
      let any = false;
      for (const callerId of authIds) {
        if (isAuthenticatedScheme(callerId.scheme)) {
          any = true;
          result.push({ perms: entry.perms, id: { scheme: callerId.scheme, id: callerId.id } });
        }
      }
      if (!any) throw new InvalidACLError(path, 'InvalidACL: auth scheme but the caller has no authenticated id');
    } else if (scheme === 'digest' ? isValidDigestId(id) : scheme === 'ip' ? isValidIpId(id) : false) {
      result.push(entry);
    } else {
      throw new InvalidACLError(path, `InvalidACL: ${scheme}:${id}`);
    }
  }
  return result;
}

/**
 * The permission check of `ZooKeeperServer.checkACL` (without `skipACL`, which the
 * caller handles): true if `acl` is empty, if the caller has a `super` id, or if some
 * entry grants any bit of `perm` and is `world:anyone` or matches one of the caller's
 * ids of the same scheme (digest: equal strings; ip: address within the entry's
 * `addr[/bits]`).
 */
export function checkACL(acl: readonly ACL[], perm: number, authIds: readonly Id[]): boolean {
  if (acl.length === 0) return true;
  for (let i = 0; i < authIds.length; i++) if (authIds[i]!.scheme === 'super') return true;
  for (let a = 0; a < acl.length; a++) {
    const entry = acl[a]!;
    if ((entry.perms & perm) === 0) continue;
    const scheme = entry.id.scheme;
    if (scheme === 'world') {
      if (entry.id.id === 'anyone') return true;
      continue;
    }
    if (scheme !== 'digest' && scheme !== 'ip') continue; // no provider: never matches
    for (let i = 0; i < authIds.length; i++) {
      const callerId = authIds[i]!;
      if (callerId.scheme !== scheme) continue;
      if (scheme === 'digest' ? callerId.id === entry.id.id : ipMatches(callerId.id, entry.id.id)) return true;
    }
  }
  return false;
}

/**
 * getACL without ADMIN shows digest ids as `user:x` (§6; FinalRequestProcessor
 * replaces `:.*` with `:x`, so an id without a colon is left as it is).
 */
export function maskDigestIds(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) => {
    if (entry.id.scheme !== 'digest') return entry;
    const colon = entry.id.id.indexOf(':');
    return colon < 0 ? entry : { perms: entry.perms, id: { scheme: 'digest', id: `${entry.id.id.slice(0, colon)}:x` } };
  });
}

// ------------------------------------------------------------------------ ip matching

interface IpExpr {
  bytes: Uint8Array;
  bits: number;
}

// Parsed ACL expressions, keyed by text: ACL ids repeat across many nodes.
const exprCache = new Map<string, IpExpr | null>();
const EXPR_CACHE_LIMIT = 4096;

function parseIpExpr(expr: string): IpExpr | undefined {
  const cached = exprCache.get(expr);
  if (cached !== undefined) return cached ?? undefined;
  const slash = expr.indexOf('/');
  const bytes = addressBytes(slash < 0 ? expr : expr.slice(0, slash));
  let parsed: IpExpr | null = null;
  if (bytes !== undefined) {
    let bits = bytes.length * 8;
    if (slash >= 0) bits = parseJavaInt(expr.slice(slash + 1));
    if (bits >= 0 && bits <= bytes.length * 8) {
      mask(bytes, bits);
      parsed = { bytes, bits };
    }
  }
  if (exprCache.size >= EXPR_CACHE_LIMIT) exprCache.clear();
  exprCache.set(expr, parsed);
  return parsed ?? undefined;
}

/**
 * `IPAuthenticationProvider.matches`: the caller's address, masked to the entry's
 * prefix length, equals the entry's masked address; IPv4 never matches IPv6.
 */
export function ipMatches(callerAddress: string, aclExpr: string): boolean {
  const expr = parseIpExpr(aclExpr);
  if (expr === undefined) return false;
  const caller = addressBytes(ipIdOf(callerAddress));
  if (caller === undefined || caller.length !== expr.bytes.length) return false;
  mask(caller, expr.bits);
  for (let i = 0; i < caller.length; i++) if (caller[i] !== expr.bytes[i]) return false;
  return true;
}

/** Zero every bit after the first `bits`. */
function mask(bytes: Uint8Array, bits: number): void {
  let index = bits >> 3;
  if (index < bytes.length && (bits & 7) !== 0) {
    bytes[index] = bytes[index]! & ~((1 << (8 - (bits & 7))) - 1);
    index++;
  }
  for (; index < bytes.length; index++) bytes[index] = 0;
}

/** Java's `Integer.parseInt` for ASCII decimal (optional sign); -1 when it would throw. */
function parseJavaInt(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) return -1;
  const value = Number(text);
  return value > 2147483647 || value < -2147483648 ? -1 : value;
}

/** 4 bytes for dotted IPv4, 16 for IPv6 (text form, `::` compression), else undefined. */
function addressBytes(address: string): Uint8Array | undefined {
  if (address.includes(':')) return ipv6Bytes(address);
  if (address.includes('.')) return ipv4Bytes(address);
  return undefined;
}

function ipv4Bytes(address: string): Uint8Array | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const value = parseJavaInt(parts[i]!);
    if (value < 0 || value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

/**
 * IPv6 as ZooKeeper's later IPAuthenticationProvider parses it (ZOOKEEPER-4240): eight
 * groups of 1–4 hex digits, or fewer around a single `::` that stands for at least one
 * zero group. No embedded IPv4 tail, no zone.
 */
function ipv6Bytes(address: string): Uint8Array | undefined {
  const halves = address.split('::');
  let head: string[];
  let tail: string[] = [];
  if (halves.length === 1) {
    head = address.split(':');
    if (head.length !== 8) return undefined;
  } else if (halves.length === 2) {
    head = halves[0] === '' ? [] : halves[0]!.split(':');
    tail = halves[1] === '' ? [] : halves[1]!.split(':');
    if (head.length + tail.length >= 8) return undefined;
  } else {
    return undefined;
  }
  const bytes = new Uint8Array(16);
  if (!writeGroups(bytes, 0, head) || !writeGroups(bytes, 16 - tail.length * 2, tail)) return undefined;
  return bytes;
}

function writeGroups(bytes: Uint8Array, offset: number, groups: string[]): boolean {
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
    const value = parseInt(group, 16);
    bytes[offset++] = value >> 8;
    bytes[offset++] = value & 0xff;
  }
  return true;
}
