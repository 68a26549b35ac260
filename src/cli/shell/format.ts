/**
 * zkCli's output formats (ZooKeeper 3.8's `ZooKeeperMain`, `StatPrinter`, `AclParser`,
 * `CliWrapperException`), so scripts written against zkCli read the shell's output the
 * same way.
 */
import { ErrorCode, ZooKeeperError } from '../../protocol/errors.js';
import { Perms } from '../../protocol/constants.js';
import type { ACL, Stat } from '../../protocol/records.js';
import type { WatchEvent } from '../../client/types.js';
import { hex64 } from '../../server/four-letter-words.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** The local time zone's short name (`UTC`, `CET`, `GMT+2`), as Java's `Date.toString` prints it. */
function zoneName(date: Date): string {
  if (date.getTimezoneOffset() === 0 && (process.env['TZ'] === undefined || /^(UTC|Etc\/UTC|GMT|)$/.test(process.env['TZ']))) return 'UTC';
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

/** Java's `new Date(ms).toString()` in the local time zone: `Sun Nov 22 05:18:35 UTC 2026`. */
export function javaLocalDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${zoneName(d)} ${d.getFullYear()}`;
}

/** zkCli's Stat block. */
export function formatStat(stat: Stat): string {
  return (
    `cZxid = 0x${hex64(stat.czxid)}\n` +
    `ctime = ${javaLocalDate(stat.ctime)}\n` +
    `mZxid = 0x${hex64(stat.mzxid)}\n` +
    `mtime = ${javaLocalDate(stat.mtime)}\n` +
    `pZxid = 0x${hex64(stat.pzxid)}\n` +
    `cversion = ${stat.cversion}\n` +
    `dataVersion = ${stat.version}\n` +
    `aclVersion = ${stat.aversion}\n` +
    `ephemeralOwner = 0x${hex64(stat.ephemeralOwner)}\n` +
    `dataLength = ${stat.dataLength}\n` +
    `numChildren = ${stat.numChildren}\n`
  );
}

/** `ZKUtil.getPermString`: the letters of `perms` in zkCli's order, c d r w a. */
export function permString(perms: number): string {
  let s = '';
  if (perms & Perms.CREATE) s += 'c';
  if (perms & Perms.DELETE) s += 'd';
  if (perms & Perms.READ) s += 'r';
  if (perms & Perms.WRITE) s += 'w';
  if (perms & Perms.ADMIN) s += 'a';
  return s;
}

/** `getAcl`'s lines for each entry: `'scheme,'id` then `: perms`. */
export function formatAcl(acl: readonly ACL[]): string {
  return acl.map((a) => `'${a.id.scheme},'${a.id.id}\n: ${permString(a.perms)}\n`).join('');
}

/** A malformed ACL argument. */
export class AclParseError extends Error {
  override name = 'AclParseError';
}

/**
 * zkCli's ACL syntax: `scheme:id:perms[,scheme:id:perms...]`; the id may itself contain
 * ':' (digest `user:hash`), so the scheme ends at the first ':' and the perms start
 * after the last one. Perms are letters of `crwda`.
 */
export function parseAcl(text: string): ACL[] {
  const acl: ACL[] = [];
  for (const part of text.split(',')) {
    const first = part.indexOf(':');
    const last = part.lastIndexOf(':');
    if (first < 0 || last === first) throw new AclParseError(`${part} does not have the form scheme:id:perm`);
    let perms = 0;
    for (const letter of part.slice(last + 1)) {
      const bit = { c: Perms.CREATE, d: Perms.DELETE, r: Perms.READ, w: Perms.WRITE, a: Perms.ADMIN }[letter.toLowerCase()];
      if (bit === undefined) throw new AclParseError(`Unknown perm type: ${letter}`);
      perms |= bit;
    }
    acl.push({ perms, id: { scheme: part.slice(0, first), id: part.slice(first + 1, last) } });
  }
  return acl;
}

/** The message zkCli prints for a failed command (`CliWrapperException`). */
export function errorMessage(error: unknown, path?: string): string {
  if (error instanceof ZooKeeperError) {
    const where = error.path ?? path ?? '';
    switch (error.code) {
      case ErrorCode.NoNode:
        return `Node does not exist: ${where}`;
      case ErrorCode.NoChildrenForEphemerals:
        return `Ephemerals cannot have children: ${where}`;
      case ErrorCode.NodeExists:
        return `Node already exists: ${where}`;
      case ErrorCode.NotEmpty:
        return `Node not empty: ${where}`;
      case ErrorCode.NotReadOnly:
        return `Not a read-only call: ${where}`;
      case ErrorCode.InvalidACL:
        return `Acl is not valid : ${where}`;
      case ErrorCode.NoAuth:
        return `Insufficient permission : ${where}`;
      case ErrorCode.BadArguments:
        return `Argument is not valid : ${where}`;
      case ErrorCode.BadVersion:
        return `version No is not valid : ${where}`;
      default:
        return `KeeperErrorCode = ${error.codeName}${where ? ` for ${where}` : ''}`;
    }
  }
  return error instanceof Error ? error.message : String(error);
}

/** Java's `List.toString`: `[a, b, c]`. */
export function javaList(items: readonly string[]): string {
  return `[${items.join(', ')}]`;
}

/** zkCli's watch event block: blank line, `WATCHER::`, blank line, the event. */
export function formatWatchEvent(event: Pick<WatchEvent, 'type' | 'path'> & { state: string }): string {
  const path = event.type === 'None' && event.path === '' ? 'null' : event.path;
  return `\nWATCHER::\n\nWatchedEvent state:${event.state} type:${event.type} path:${path}\n`;
}
