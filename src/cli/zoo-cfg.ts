/**
 * Reading an unmodified ZooKeeper `zoo.cfg` (Java properties syntax), so one
 * `zoostate server --config zoo.cfg` process can join a multi-process ensemble configured
 * the way ZooKeeper operators already do it. Options zoostate does not support are
 * reported by name rather than silently ignored.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One `server.N=host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]` line. */
export interface ZooCfgServer {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: 'participant' | 'observer';
  clientAddress?: string;
  clientPort?: number;
}

/** The settings zoostate understands. */
export interface ZooCfg {
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  dataDir?: string;
  dataLogDir?: string;
  clientPort?: number;
  clientPortAddress?: string;
  maxClientCnxns: number;
  minSessionTimeout?: number;
  maxSessionTimeout?: number;
  /** `4lw.commands.whitelist`: the enabled four-letter words, or `*` for all. */
  fourLetterWords: string[] | '*';
  /** `zoostate.secret`: the ensemble's peer secret (zoostate's own key; env ZOOSTATE_SECRET also works). */
  secret?: string;
  /** `jute.maxbuffer`: the largest client frame, bytes. */
  maxBuffer?: number;
  /** `reconfigEnabled`: dynamic reconfiguration allowed (default false, as ZooKeeper 3.5.3+). */
  reconfigEnabled: boolean;
  /** `standaloneEnabled` (default true): one voter runs standalone; a reconfig keeps 2 voters or more. */
  standaloneEnabled: boolean;
  /**
   * `readonlymode.enabled` (default false): read-only mode. A Java system property in
   * ZooKeeper; zoostate reads it from zoo.cfg too.
   */
  readOnlyMode: boolean;
  /**
   * `zookeeper.DigestAuthenticationProvider.superDigest`: the super user,
   * `user:base64(sha1(user:password))`. A Java system property in ZooKeeper; zoostate
   * reads it from zoo.cfg too.
   */
  superDigest?: string;
  servers: ZooCfgServer[];
  /** Every key=value line as read, for tools that want the raw view. */
  raw: Map<string, string>;
  /** Keys present in the file that zoostate does not act on. */
  unsupported: string[];
}

/** A configuration error, naming the line or key at fault. */
export class ZooCfgError extends Error {
  override name = 'ZooCfgError';
}

// Keys zoostate acts on, plus keys that are safe to accept without acting on them
// because they only tune the JVM implementation or features zoostate handles its own way.
const SUPPORTED = new Set([
  'tickTime',
  'initLimit',
  'syncLimit',
  'dataDir',
  'dataLogDir',
  'clientPort',
  'clientPortAddress',
  'maxClientCnxns',
  'minSessionTimeout',
  'maxSessionTimeout',
  '4lw.commands.whitelist',
  'zoostate.secret',
  'jute.maxbuffer',
  'reconfigEnabled',
  'standaloneEnabled',
  'readonlymode.enabled',
  'zookeeper.DigestAuthenticationProvider.superDigest',
]);
const HARMLESS = new Set([
  'admin.enableServer',
  'admin.serverPort',
  'autopurge.snapRetainCount',
  'autopurge.purgeInterval',
  'preAllocSize',
  'snapCount',
  'metricsProvider.className',
]);

/** Parse the text of a zoo.cfg. */
export function parseZooCfg(text: string): ZooCfg {
  const raw = new Map<string, string>();
  for (const [index, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.search(/[=:]/);
    if (eq <= 0) throw new ZooCfgError(`line ${index + 1}: expected key=value, got '${line}'`);
    raw.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }

  const servers: ZooCfgServer[] = [];
  const unsupported: string[] = [];
  for (const [key, value] of raw) {
    const serverMatch = /^server\.(\d+)$/.exec(key);
    if (serverMatch) servers.push(parseServerLine(Number(serverMatch[1]), value));
    else if (!SUPPORTED.has(key) && !HARMLESS.has(key)) unsupported.push(key);
  }
  servers.sort((a, b) => a.id - b.id);

  const int = (key: string, fallback?: number): number | undefined => {
    const value = raw.get(key);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) throw new ZooCfgError(`${key}: expected an integer, got '${value}'`);
    return Number(value);
  };
  const whitelist = raw.get('4lw.commands.whitelist');
  // Java's Boolean.parseBoolean: "true" in any case is true, anything else false.
  const bool = (key: string, fallback: boolean): boolean => {
    const value = raw.get(key);
    return value === undefined ? fallback : value.toLowerCase() === 'true';
  };
  const cfg: ZooCfg = {
    tickTime: int('tickTime', 2000)!,
    initLimit: int('initLimit', 10)!,
    syncLimit: int('syncLimit', 5)!,
    dataDir: raw.get('dataDir'),
    dataLogDir: raw.get('dataLogDir'),
    clientPort: int('clientPort'),
    clientPortAddress: raw.get('clientPortAddress'),
    maxClientCnxns: int('maxClientCnxns', 60)!,
    minSessionTimeout: int('minSessionTimeout'),
    maxSessionTimeout: int('maxSessionTimeout'),
    fourLetterWords:
      whitelist === undefined || whitelist.trim() === '*'
        ? '*'
        : whitelist
            .split(',')
            .map((w) => w.trim())
            .filter((w) => w !== ''),
    reconfigEnabled: bool('reconfigEnabled', false),
    standaloneEnabled: bool('standaloneEnabled', true),
    readOnlyMode: bool('readonlymode.enabled', false),
    servers,
    raw,
    unsupported,
  };
  const secret = raw.get('zoostate.secret');
  if (secret !== undefined) cfg.secret = secret;
  const superDigest = raw.get('zookeeper.DigestAuthenticationProvider.superDigest');
  if (superDigest !== undefined) cfg.superDigest = superDigest;
  const maxBuffer = int('jute.maxbuffer');
  if (maxBuffer !== undefined) cfg.maxBuffer = maxBuffer;
  if (cfg.tickTime <= 0) throw new ZooCfgError('tickTime must be positive');
  return cfg;
}

function parsePort(text: string | undefined, what: string): number {
  const port = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || port < 0 || port > 65535) throw new ZooCfgError(`${what}: invalid port '${text}'`);
  return port;
}

/** Parse the value of `server.N` (ZooKeeper's `QuorumServer` syntax, single address). */
export function parseServerLine(id: number, value: string): ZooCfgServer {
  const where = `server.${id}`;
  const [quorumPart, clientPart] = value.split(';', 2).map((s) => s.trim());
  const { host, rest } = splitHost(quorumPart ?? '', where);
  const parts = rest.split(':');
  if (parts.length < 2 || parts.length > 3) throw new ZooCfgError(`${where}: expected host:quorumPort:electionPort[:participant|:observer], got '${value}'`);
  const role = parts[2] ?? 'participant';
  if (role !== 'participant' && role !== 'observer') throw new ZooCfgError(`${where}: unknown role '${role}'`);
  const server: ZooCfgServer = {
    id,
    host,
    quorumPort: parsePort(parts[0], `${where} quorum port`),
    electionPort: parsePort(parts[1], `${where} election port`),
    role,
  };
  if (clientPart) {
    const colon = clientPart.lastIndexOf(':');
    if (colon === -1) server.clientPort = parsePort(clientPart, `${where} client port`);
    else {
      server.clientAddress = clientPart.slice(0, colon);
      server.clientPort = parsePort(clientPart.slice(colon + 1), `${where} client port`);
    }
  }
  return server;
}

function splitHost(text: string, where: string): { host: string; rest: string } {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1 || text[end + 1] !== ':') throw new ZooCfgError(`${where}: malformed IPv6 address in '${text}'`);
    return { host: text.slice(1, end), rest: text.slice(end + 2) };
  }
  const colon = text.indexOf(':');
  if (colon <= 0) throw new ZooCfgError(`${where}: expected host:port:port, got '${text}'`);
  return { host: text.slice(0, colon), rest: text.slice(colon + 1) };
}

/** Read `myid` from a data directory (a decimal server id, as ZooKeeper writes it). */
export function readMyId(dataDir: string): number {
  const text = readFileSync(join(dataDir, 'myid'), 'utf8').trim();
  if (!/^\d+$/.test(text)) throw new ZooCfgError(`${join(dataDir, 'myid')}: expected a server id, got '${text}'`);
  return Number(text);
}
