/**
 * The dynamic configuration (ZooKeeper's `QuorumVerifier` / `QuorumMaj`): the members
 * with their addresses and roles, and a version, in ZooKeeper's text form, which is what
 * `/zookeeper/config` holds, `getConfig` returns and `conf` prints:
 *
 * ```
 * server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181
 * server.2=10.0.0.2:2888:3888:participant
 * server.4=10.0.0.4:2888:3888:observer;10.0.0.4:2181
 * version=100000002
 * ```
 *
 * One line per member in id order (`host:quorumPort:electionPort:role`, then
 * `;clientHost:clientPort` when the member's client address is part of the dynamic
 * configuration, as ZooKeeper omits it for a client port from the static `clientPort`),
 * then `version=` in hex without a trailing newline. The version is the zxid of the
 * reconfig transaction that made the configuration; a configuration nobody reconfigured
 * (the static one, from zoo.cfg or the ensemble's options) has version 0.
 *
 * Servers without network addresses (in-process ensembles) are rendered as
 * `127.0.0.1:0:0` (port 0: no peer port), the same placeholder `zoostate server` uses
 * for a standalone server; zoostate reads its own rendering back, so a restarted server
 * recovers its membership from the tree.
 *
 * Two parsers: `parseConfigText` reads back what this module rendered (lenient about
 * ports, since placeholders use 0); `parseServerSpec` applies ZooKeeper's rules to what
 * a client sends in a reconfig request (`QuorumServer(sid, addressStr)`), raising the
 * error code ZooKeeper would answer.
 */
import { ErrorCode } from '../protocol/errors.js';
import type { ServerId } from '../protocol/peer.js';
import type { Zxid } from '../protocol/zxid.js';
import type { Membership } from './quorum.js';

/** A member's role (ZooKeeper's `LearnerType`). */
export type ConfigRole = 'participant' | 'observer';

/** One member of a dynamic configuration (ZooKeeper's `QuorumServer`). */
export interface ConfigServer {
  readonly id: ServerId;
  /** Host of the quorum and election ports, as given (a name or an address literal). */
  readonly host: string;
  readonly quorumPort: number;
  /** Accepted and reported; zoostate elects over the quorum connection. */
  readonly electionPort: number;
  readonly role: ConfigRole;
  /** Client host; absent when the client port is not part of the dynamic configuration. */
  readonly clientAddress?: string;
  readonly clientPort?: number;
}

/** A dynamic configuration: members in id order and a version. */
export interface QuorumConfig {
  readonly servers: readonly ConfigServer[];
  /** The zxid of the reconfig that made it; 0 for a static configuration. */
  readonly version: Zxid;
}

/** Something that describes a member's addresses (structurally: zoo.cfg's server lines). */
export interface ServerAddressLike {
  id: ServerId;
  host?: string;
  quorumPort?: number;
  electionPort?: number;
  role?: ConfigRole;
  clientAddress?: string;
  clientPort?: number;
}

/** Host and ports of a member without a network address (in-process transports). */
export const NO_ADDRESS = Object.freeze({ host: '127.0.0.1', quorumPort: 0, electionPort: 0 });

/** A reconfig request that ZooKeeper refuses, with the code it answers. */
export class ReconfigError extends Error {
  override name = 'ReconfigError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The static configuration of `membership`, with the addresses known (`addressOf`), version 0. */
export function staticConfig(membership: Membership, addressOf: (id: ServerId) => ServerAddressLike | undefined = () => undefined): QuorumConfig {
  const servers: ConfigServer[] = [];
  const add = (id: ServerId, role: ConfigRole): void => {
    const a = addressOf(id);
    servers.push({
      id,
      host: a?.host ?? NO_ADDRESS.host,
      quorumPort: a?.quorumPort ?? NO_ADDRESS.quorumPort,
      electionPort: a?.electionPort ?? NO_ADDRESS.electionPort,
      role,
      ...(a?.clientPort !== undefined ? { clientAddress: a.clientAddress ?? '0.0.0.0', clientPort: a.clientPort } : {}),
    });
  };
  for (const id of membership.voters) add(id, 'participant');
  for (const id of membership.observers) add(id, 'observer');
  return { servers: sortServers(servers), version: 0 };
}

/** Voters and observers of `config`. */
export function membershipOfConfig(config: QuorumConfig): Membership {
  const voters: ServerId[] = [];
  const observers: ServerId[] = [];
  for (const s of config.servers) (s.role === 'participant' ? voters : observers).push(s.id);
  return { voters, observers };
}

/** `host` with brackets if it is an IPv6 literal (ZooKeeper's `delimitedHostString`). */
function delimited(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The value of a member's `server.N=` line (ZooKeeper's `QuorumServer.toString`). */
export function renderServer(s: ConfigServer): string {
  const client = s.clientPort !== undefined ? `;${delimited(s.clientAddress ?? '0.0.0.0')}:${s.clientPort}` : '';
  return `${delimited(s.host)}:${s.quorumPort}:${s.electionPort}:${s.role}${client}`;
}

/** The `server.N=...` lines of `config`, in id order. */
export function configLines(config: QuorumConfig): string[] {
  return config.servers.map((s) => `server.${s.id}=${renderServer(s)}`);
}

/** `config` as text: the server lines, then `version=<hex>` (no trailing newline). */
export function renderConfig(config: QuorumConfig): string {
  let out = '';
  for (const line of configLines(config)) out += `${line}\n`;
  return `${out}version=${config.version.toString(16)}`;
}

/** `renderConfig` as UTF-8 bytes. */
export function encodeConfig(config: QuorumConfig): Uint8Array {
  return new TextEncoder().encode(renderConfig(config));
}

/**
 * Read back a configuration rendered by `renderConfig` (for example the data of
 * `/zookeeper/config`). Undefined if it is not one: malformed, or without voters.
 */
export function parseConfigText(text: string): QuorumConfig | undefined {
  const servers: ConfigServer[] = [];
  let version = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) return undefined;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'version') {
      if (!/^[0-9a-f]{1,14}$/i.test(value)) return undefined;
      version = parseInt(value, 16);
      continue;
    }
    const m = /^server\.(\d{1,15})$/.exec(key);
    if (m === null) return undefined;
    try {
      servers.push(parseServerSpec(Number(m[1]), value, { lenient: true }));
    } catch {
      return undefined;
    }
  }
  if (!servers.some((s) => s.role === 'participant')) return undefined;
  if (new Set(servers.map((s) => s.id)).size !== servers.length) return undefined;
  return { servers: sortServers(servers), version };
}

/** Decode and parse bytes of `/zookeeper/config`; undefined if they hold no configuration. */
export function decodeConfig(data: Uint8Array | null | undefined): QuorumConfig | undefined {
  if (data === null || data === undefined || data.length === 0) return undefined;
  return parseConfigText(new TextDecoder().decode(data));
}

/** Members in ascending id order (a new array). */
export function sortServers(servers: readonly ConfigServer[]): ConfigServer[] {
  return [...servers].sort((a, b) => a.id - b.id);
}

// ------------------------------------------------------------------ ZooKeeper's parsing rules

/** Java's `String.split` with a literal separator: trailing empty strings are dropped. */
export function javaSplit(text: string, separator: string): string[] {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length === 0 ? [''] : parts;
}

/** ZooKeeper's `StringUtils.split`: split, trim, drop empty parts. */
export function splitTrimmed(text: string, separator: string): string[] {
  return text
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Java's `Integer.parseInt`, or NaN where it throws. */
function javaInt(text: string | undefined): number {
  if (text === undefined || !/^[+-]?\d{1,10}$/.test(text)) return NaN;
  const n = Number(text);
  return n >= -(2 ** 31) && n < 2 ** 31 ? n : NaN;
}

/** Java's `Long.parseLong` for a server id: the id, or NaN where Java throws (or beyond what zoostate's ids hold). */
export function javaServerId(text: string): number {
  if (!/^[+-]?\d{1,19}$/.test(text)) return NaN;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : NaN;
}

/** ZooKeeper's `ConfigUtils.getHostAndPort`: `host:port:...` with `[v6]` hosts. */
function hostAndPorts(text: string): string[] {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw new ReconfigError(ErrorCode.BadArguments, `${text} starts with '[' but has no matching ']'`);
    if (end + 2 === text.length) throw new ReconfigError(ErrorCode.BadArguments, `${text} doesn't have a port after colon`);
    if (end + 2 < text.length) return [text.slice(1, end), ...javaSplit(text.slice(end + 2), ':')];
    return [text.replace(/[[\]]/g, '')];
  }
  return javaSplit(text, ':');
}

function port(text: string | undefined, what: string): number {
  const n = javaInt(text);
  if (Number.isNaN(n)) throw new ReconfigError(ErrorCode.BadArguments, `Address unresolved: ${what}:${text ?? ''}`);
  // InetSocketAddress throws IllegalArgumentException: a MarshallingError in ZooKeeper.
  if (n < 0 || n > 65535) throw new ReconfigError(ErrorCode.MarshallingError, `port out of range: ${n}`);
  return n;
}

/**
 * Parse the value of a `server.N=` entry with ZooKeeper's rules:
 * `host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]`.
 * Throws `ReconfigError` with BadArguments (ZooKeeper's ConfigException) or
 * MarshallingError (where ZooKeeper fails with a runtime exception). `lenient` accepts
 * equal quorum and election ports (zoostate's placeholders).
 */
export function parseServerSpec(id: ServerId, spec: string, options: { lenient?: boolean } = {}): ConfigServer {
  const wrong = (): ReconfigError =>
    new ReconfigError(
      ErrorCode.BadArguments,
      `${spec} does not have the form server_config or server_config;client_config where server_config is host:port:port or host:port:port:type and client_config is port or host:port`,
    );
  const serverClient = javaSplit(spec, ';');
  if (serverClient.length > 2) throw wrong();
  let clientAddress: string | undefined;
  let clientPort: number | undefined;
  if (serverClient.length === 2) {
    const client = hostAndPorts(serverClient[1]!);
    if (client.length > 2) throw wrong();
    clientAddress = client.length === 2 ? client[0]! : '0.0.0.0';
    clientPort = port(client[client.length - 1], clientAddress);
  }
  const addresses = javaSplit(serverClient[0]!, '|');
  if (addresses.length > 1) throw new ReconfigError(ErrorCode.BadArguments, `Multiple address feature is disabled, but multiple addresses were specified for sid ${id}`);
  const parts = hostAndPorts(addresses[0]!);
  if (parts.length < 3 || parts.length > 4) throw wrong();
  const host = parts[0]!;
  const quorumPort = port(parts[1], host);
  const electionPort = port(parts[2], host);
  if (quorumPort === electionPort && !options.lenient) {
    throw new ReconfigError(ErrorCode.BadArguments, `Client and election port must be different! Please update the configuration file on server.${id}`);
  }
  let role: ConfigRole = 'participant';
  if (parts.length === 4) {
    const type = parts[3]!.trim().toLowerCase();
    if (type !== 'participant' && type !== 'observer') throw new ReconfigError(ErrorCode.BadArguments, `Unrecognised peertype: ${parts[3]}`);
    role = type;
  }
  return { id, host, quorumPort, electionPort, role, ...(clientPort !== undefined ? { clientAddress: clientAddress!, clientPort } : {}) };
}

/** Wildcard and loopback hosts: ZooKeeper leaves them out of its duplicate-address check. */
function isSpecialHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === '0.0.0.0' || h === '::' || h === '0:0:0:0:0:0:0:0' || h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function addressesOf(s: ConfigServer): string[] {
  const out: string[] = [];
  const add = (host: string | undefined, p: number | undefined): void => {
    if (host !== undefined && p !== undefined && !isSpecialHost(host)) out.push(`${host.toLowerCase()}:${p}`);
  };
  add(s.host, s.quorumPort);
  add(s.clientAddress, s.clientPort);
  add(s.host, s.electionPort);
  return out;
}

/**
 * ZooKeeper's `QuorumServer.checkAddressDuplicate`: `joiner` may not share a (non-wildcard,
 * non-loopback) address and port with `other`. Throws BadArguments.
 */
export function checkAddressDuplicate(joiner: ConfigServer, other: ConfigServer): void {
  const theirs = new Set(addressesOf(other));
  for (const mine of addressesOf(joiner)) {
    if (theirs.has(mine)) throw new ReconfigError(ErrorCode.BadArguments, `${mine} of server.${joiner.id} conflicts ${mine} of server.${other.id}`);
  }
}
