/**
 * Dynamic reconfiguration (ZooKeeper 3.5+ `reconfig`, reference §16 and
 * ZooKeeper's "Dynamic Reconfiguration" guide): what the leader does with a reconfig
 * request, as pure functions. The protocol around them lives in the cores:
 *
 * - **Prepare** (leader, `LeaderCore`): ZooKeeper's `PrepRequestProcessor` checks, in its
 *   order — reconfigEnabled (ReconfigDisabled), the session, standalone (Unimplemented),
 *   a reconfig already outstanding (ReconfigInProgress), `curConfigId` against the last
 *   configuration (BadVersion, -1 matches any), the new member list (`planReconfig`:
 *   BadArguments, or MarshallingError where ZooKeeper fails with a runtime exception),
 *   at least 2 voters (1 with `standaloneEnabled=false`; BadArguments), a connected and
 *   synced quorum of the new voters (NewConfigNoQuorum), and last WRITE permission on
 *   `/zookeeper/config` (NoAuth; super and skipACL pass). A failure becomes an error
 *   transaction that consumes its zxid, like any failed write. Success is a `reconfig`
 *   transaction whose data is the new configuration with `version=` its own zxid.
 * - **Commit** (leader): the reconfig proposal, and every proposal after it until it
 *   commits, needs the ACKs of a quorum of the old voters AND of a quorum of the new
 *   voters (ZooKeeper's `Proposal.qvAcksetPairs`). Only one reconfig may be outstanding.
 * - **Activate** (every server, `QuorumServer`): applying the transaction writes
 *   `/zookeeper/config` (so every replica's tree and digest agree) and makes the new
 *   configuration current; later quorum decisions use it. A leader that is no longer a
 *   voter steps down (its followers see their leader leave the voters and elect anew);
 *   a learner whose role changed (participant ↔ observer) rejoins in its new role; a
 *   learner that was removed keeps following as a non-voting member, as ZooKeeper 3.8's
 *   removed followers do (they stay `Mode: follower` and keep serving; their ACKs no
 *   longer count).
 * - **Recover**: the configuration lives in the replicated tree and log, so storage
 *   persists it (a server snapshots its tree right after applying a reconfig, as
 *   ZooKeeper writes its dynamic config file). A restarted server takes the configuration
 *   in its tree if a reconfig wrote it (else its static one); reconfig transactions still
 *   in its unapplied log are "last seen" configurations: a new leader needs a quorum of
 *   each of them, as of its current one, before it serves (ZooKeeper's NEWLEADER needs
 *   both of its verifiers).
 * - **Catch up**: once reconfigured, servers send their configuration with their
 *   election notifications (ZooKeeper's notification `config`); a LOOKING server that
 *   missed a reconfig (it was down) adopts the newer one and elects among its voters.
 */
import { ErrorCode } from '../protocol/errors.js';
import type { ServerId } from '../protocol/peer.js';
import type { ReconfigRequest } from '../protocol/records.js';
import type { Txn } from '../protocol/txn.js';
import {
  ReconfigError,
  checkAddressDuplicate,
  decodeConfig,
  javaServerId,
  parseServerSpec,
  sortServers,
  splitTrimmed,
  type ConfigServer,
  type QuorumConfig,
} from './reconfig-config.js';

/** Options of the reconfig checks. */
export interface ReconfigOptions {
  /** ZooKeeper's `standaloneEnabled` (default true): a new configuration needs 2 voters, not 1. */
  standaloneEnabled?: boolean;
}

/** The members of the configuration a request asks for, or the error ZooKeeper answers. */
export type ReconfigPlan = { ok: true; servers: ConfigServer[] } | { ok: false; err: number; message: string };

type MemberChange = Pick<ReconfigRequest, 'joiningServers' | 'leavingServers' | 'newMembers'>;

/**
 * The new member list of a reconfig request against the current configuration
 * (incremental: `leavingServers` then `joiningServers`; or the whole `newMembers` list),
 * with ZooKeeper's parsing rules and errors, and its voter count check.
 */
export function planReconfig(current: QuorumConfig, request: MemberChange, options: ReconfigOptions = {}): ReconfigPlan {
  const standaloneEnabled = options.standaloneEnabled ?? true;
  let servers: ConfigServer[];
  try {
    servers = request.newMembers !== null ? parseNewMembers(request.newMembers, standaloneEnabled) : incremental(current, request);
  } catch (error) {
    if (error instanceof ReconfigError) return { ok: false, err: error.code, message: error.message };
    throw error;
  }
  const voters = servers.filter((s) => s.role === 'participant').length;
  if (standaloneEnabled && voters < 2) return { ok: false, err: ErrorCode.BadArguments, message: 'Reconfig failed - new configuration must include at least 2 followers' };
  if (voters < 1) return { ok: false, err: ErrorCode.BadArguments, message: 'Reconfig failed - new configuration must include at least 1 follower' };
  return { ok: true, servers: sortServers(servers) };
}

/** Incremental change: remove the leaving ids, then add or replace each joiner. */
function incremental(current: QuorumConfig, request: MemberChange): ConfigServer[] {
  const next = new Map<ServerId, ConfigServer>(current.servers.map((s) => [s.id, s]));
  if (request.leavingServers !== null) {
    for (const leaving of splitTrimmed(request.leavingServers, ',')) {
      const id = javaServerId(leaving);
      if (Number.isNaN(id)) throw new ReconfigError(ErrorCode.MarshallingError, `For input string: "${leaving}"`);
      next.delete(id);
    }
  }
  if (request.joiningServers !== null) {
    for (const joiner of splitTrimmed(request.joiningServers, ',')) {
      // server.x=server_spec;client_spec
      const parts = splitTrimmed(joiner, '=');
      if (parts.length !== 2) throw new ReconfigError(ErrorCode.BadArguments, 'Wrong format of server string');
      const key = parts[0]!;
      const id = javaServerId(key.slice(key.lastIndexOf('.') + 1));
      if (Number.isNaN(id) || id < 0) throw new ReconfigError(ErrorCode.MarshallingError, `For input string: "${key}"`);
      const server = parseServerSpec(id, parts[1]!);
      if (server.clientPort === undefined) {
        throw new ReconfigError(ErrorCode.BadArguments, 'Wrong format of server string - each server should have 3 ports specified');
      }
      for (const other of next.values()) if (other.id !== id) checkAddressDuplicate(server, other);
      next.set(id, server);
    }
  }
  return [...next.values()];
}

/**
 * Non-incremental change: `newMembers` is a properties text (commas separate entries as
 * newlines do) of `server.N=` entries and an optional `version`, as
 * `QuorumPeerConfig.parseDynamicConfig` reads it.
 */
function parseNewMembers(text: string, standaloneEnabled: boolean): ConfigServer[] {
  const entries = new Map<string, string>();
  for (const [key, value] of readProperties(text.replace(/,/g, '\n'))) entries.set(key, value);
  for (const key of entries.keys()) {
    if (key.startsWith('group') || key.startsWith('weight')) {
      throw new ReconfigError(ErrorCode.BadArguments, `hierarchical quorums are not supported by zoostate: ${key}`);
    }
    if (!key.startsWith('server.') && key !== 'version') throw new ReconfigError(ErrorCode.BadArguments, `Unrecognised parameter: ${key}`);
  }
  const servers: ConfigServer[] = [];
  for (const [key, value] of entries) {
    if (!key.startsWith('server.')) continue;
    const id = javaServerId(key.slice(key.indexOf('.') + 1));
    if (Number.isNaN(id) || id < 0) throw new ReconfigError(ErrorCode.MarshallingError, `For input string: "${key}"`);
    servers.push(parseServerSpec(id, value));
  }
  const voters = servers.filter((s) => s.role === 'participant').length;
  const observers = servers.length - voters;
  // parseDynamicConfig's IllegalArgumentExceptions: a MarshallingError in ZooKeeper.
  if (voters === 0 && (!standaloneEnabled || observers > 0)) throw new ReconfigError(ErrorCode.MarshallingError, 'Observers w/o participants is an invalid configuration');
  if (voters === 1 && standaloneEnabled && observers > 0) throw new ReconfigError(ErrorCode.MarshallingError, 'Observers w/o quorum is an invalid configuration');
  return servers;
}

/** The key/value pairs of a Java properties text (no escapes or continuations). */
function* readProperties(text: string): Generator<[string, string]> {
  for (const raw of text.split(/\r?\n|\r/)) {
    const line = raw.replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const sep = line.search(/[=: \t\f]/);
    if (sep < 0) {
      yield [line, ''];
      continue;
    }
    const key = line.slice(0, sep);
    let rest = line.slice(sep).replace(/^[ \t\f]+/, '');
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]+/, '');
    yield [key, rest];
  }
}

/** The configuration a reconfig transaction carries, or undefined if `txn` is none. */
export function configOfTxn(txn: Txn): QuorumConfig | undefined {
  return txn.body.kind === 'reconfig' ? decodeConfig(txn.body.data) : undefined;
}
