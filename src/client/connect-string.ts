/**
 * Connect strings as ZooKeeper clients write them: comma-separated `host:port` entries
 * followed by an optional chroot, e.g. `127.0.0.1:2181,127.0.0.1:2182/app`
 * (Java's `ConnectStringParser`). IPv6 hosts go in brackets: `[::1]:2181`.
 */
import { BadArgumentsError } from '../protocol/errors.js';
import { pathProblem } from './paths.js';

/** The port used when an entry has none. */
export const DEFAULT_PORT = 2181;

/** One server address of a connect string. */
export interface HostAddress {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
}

/** A parsed connect string. */
export interface ConnectString {
  /** The servers, in the order written. */
  hosts: HostAddress[];
  /** The chroot (`/app`), or undefined when none (or `/`) was given. */
  chroot: string | undefined;
}

/** `host:port` (IPv6 hosts in brackets). */
export function formatHost(address: HostAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function parseHost(entry: string, whole: string): HostAddress {
  let host: string;
  let portText: string | undefined;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) throw new BadArgumentsError(undefined, `Unclosed IPv6 bracket in connect string ${JSON.stringify(whole)}`);
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new BadArgumentsError(undefined, `Bad host ${JSON.stringify(entry)} in connect string`);
      portText = rest.slice(1);
    }
  } else {
    const colon = entry.lastIndexOf(':');
    if (colon >= 0) {
      host = entry.slice(0, colon);
      portText = entry.slice(colon + 1);
    } else {
      host = entry;
    }
  }
  if (host === '') throw new BadArgumentsError(undefined, `Empty host in connect string ${JSON.stringify(whole)}`);
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
      throw new BadArgumentsError(undefined, `Bad port ${JSON.stringify(portText)} in connect string ${JSON.stringify(whole)}`);
    }
    port = Number(portText);
  }
  return { host, port };
}

/**
 * Parse a connect string. Throws `BadArgumentsError` (code -8) for an empty host list,
 * a bad port or an invalid chroot.
 */
export function parseConnectString(connectString: string): ConnectString {
  let hostsPart = connectString;
  let chroot: string | undefined;
  const slash = connectString.indexOf('/');
  if (slash >= 0) {
    const root = connectString.slice(slash);
    hostsPart = connectString.slice(0, slash);
    if (root !== '/') {
      const problem = pathProblem(root);
      if (problem !== undefined) throw new BadArgumentsError(root, `Invalid chroot ${JSON.stringify(root)}: ${problem}`);
      chroot = root;
    }
  }
  const hosts = hostsPart
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => parseHost(entry, connectString));
  if (hosts.length === 0) throw new BadArgumentsError(undefined, `No hosts in connect string ${JSON.stringify(connectString)}`);
  return { hosts, chroot };
}
