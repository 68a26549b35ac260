/**
 * The checkers a simulated run must pass. Most watch the replicas while the run goes on
 * (`ReplicaMonitor`, fed by every server's `applied`, `treeReplaced`, `state` and
 * `serving` events), a few judge the end state, and the linearizability checker judges
 * the recorded history.
 *
 * | checker            | what it asserts |
 * |--------------------|-----------------|
 * | `linearizability`  | the history is valid under ZooKeeper's guarantees (linearizability.ts) |
 * | `durability`       | every acknowledged write is in the final committed history, at the zxid it was acknowledged with |
 * | `no-double-apply`  | per replica run, applied zxids strictly increase; each (session, cxid) is applied at one zxid only |
 * | `prefix`           | replicas never disagree on a committed history: the txn at a zxid, and the txn that follows a zxid, are the same on every replica; after healing every replica has the same last zxid and digest |
 * | `leader-per-epoch` | at most one server establishes leadership of a given epoch |
 * | `epochs`           | durable acceptedEpoch / currentEpoch never go down |
 * | `liveness`         | after every fault is healed, the ensemble converges (one leader, all serving, equal digests) in bounded virtual time |
 * | `exception`        | nothing threw (an `invariant` failing inside a server is a bug) |
 * | `ephemerals`       | after healing, no replica holds an ephemeral node created before its session's closeSession was applied; with client sessions, no replica holds an ephemeral of a session that is not live (closed or expired), and once every client is closed or dead, every session expires and no ephemeral is left |
 * | `watches`          | watch events delivered exactly once per registration and in order (connections.ts at the server, watch-checker.ts at the client) |
 * | `mutual-exclusion`, `fencing`, `recipe-liveness` | the recipes' guarantees (recipe-checkers.ts) |
 *
 * How the committed history is reconstructed without trusting any one replica: when a
 * replica applies zxid z right after zxid p (its previous applied zxid in this run of
 * the server, or the zxid of the tree it loaded / received as a snapshot), it asserts
 * `successor(p) = z`. Every replica must assert the same successors and the same
 * transaction at each zxid; the committed history is the chain 0 → successor → ... and
 * an acknowledged write must lie on it.
 */
import type { Txn } from '../protocol/txn.js';
import type { ServerId } from '../protocol/peer.js';
import type { QuorumServer } from '../server/quorum-server.js';
import { CONTAINER_EPHEMERAL_OWNER, TTL_EPHEMERAL_OWNER_MARK } from '../protocol/constants.js';
import { isClientSessionId } from '../server/sessions.js';
import type { ApplyResult } from '../tree/data-tree.js';
import { checkHistory, type CheckOptions, type CheckResult } from './linearizability.js';
import type { History } from './history.js';
import { shortZxid, type SimTrace } from './trace.js';
import type { Acknowledged } from './workload.js';

/** Every checker's name. */
export type CheckerName =
  | 'linearizability'
  | 'durability'
  | 'no-double-apply'
  | 'prefix'
  | 'leader-per-epoch'
  | 'epochs'
  | 'liveness'
  | 'exception'
  | 'ephemerals'
  | 'watches'
  | 'mutual-exclusion'
  | 'fencing'
  | 'recipe-liveness';

/** One failed check. */
export interface CheckFailure {
  checker: CheckerName;
  message: string;
}

interface ReplicaState {
  /** The zxid applied last in this run of the server (or its tree's base); null while stopped. */
  prev: number | null;
  lastState: string;
}

/** Watches every replica and records violations as they happen. See the module comment. */
export class ReplicaMonitor {
  /** Violations found so far (the first few of each checker are kept). */
  readonly failures: CheckFailure[] = [];
  /** successor(p) = z as asserted by the first replica that applied z after p. */
  private readonly successor = new Map<number, number>();
  /** The transaction at each zxid: `session:cxid|kind`. */
  private readonly txnAt = new Map<number, string>();
  /** The zxid each session's closeSession was applied at. */
  private readonly closedAt = new Map<bigint, number>();
  /** The zxid each `session:cxid` was applied at. */
  private readonly zxidOf = new Map<string, number>();
  /** epoch → the server that established leadership of it. */
  private readonly leaders = new Map<number, ServerId>();
  private readonly replicas = new Map<ServerId, ReplicaState>();
  private readonly trace: SimTrace;
  private readonly counts = new Map<CheckerName, number>();
  private readonly messages = new Set<string>();
  /** Transactions applied, over all replicas. */
  appliedCount = 0;

  constructor(servers: readonly QuorumServer[], trace: SimTrace) {
    this.trace = trace;
    for (const server of servers) this.watch(server);
  }

  /** Record a violation (at most 3 distinct messages per checker are kept). */
  fail(checker: CheckerName, message: string): void {
    if (this.messages.has(message)) return; // the same fact re-asserted (e.g. replayed after a restart)
    this.messages.add(message);
    const n = (this.counts.get(checker) ?? 0) + 1;
    this.counts.set(checker, n);
    if (n <= 3) this.failures.push({ checker, message });
    if (this.trace.enabled) this.trace.log('check', `VIOLATION ${checker}: ${message}`);
  }

  /** Epochs and their leaders, ascending. */
  leaderEpochs(): [number, ServerId][] {
    return [...this.leaders].sort((a, b) => a[0] - b[0]);
  }

  private watch(server: QuorumServer): void {
    const id = server.self;
    const state: ReplicaState = { prev: null, lastState: 'STOPPED' };
    this.replicas.set(id, state);
    server.on('state', (s) => {
      if (state.lastState === 'STOPPED' && s !== 'STOPPED') state.prev = server.lastAppliedZxid; // a new run: the loaded tree
      if (s === 'STOPPED') state.prev = null;
      state.lastState = s;
      if (this.trace.enabled) {
        const extra = s === 'FOLLOWING' || s === 'OBSERVING' ? ` leader s${server.leaderId}` : s === 'LOOKING' ? ` last ${shortZxid(server.lastZxid)}` : '';
        this.trace.log(`s${id}`, `${s}${extra}`);
      }
    });
    server.on('serving', (serving) => {
      if (serving && server.state === 'LEADING') {
        const epoch = server.epoch;
        const other = this.leaders.get(epoch);
        if (other !== undefined && other !== id) this.fail('leader-per-epoch', `servers ${other} and ${id} both established leadership of epoch ${epoch}`);
        else this.leaders.set(epoch, id);
      }
      if (this.trace.enabled) this.trace.log(`s${id}`, serving ? `serving (${server.role}, epoch ${server.epoch}, applied ${shortZxid(server.lastAppliedZxid)})` : 'not serving');
    });
    server.on('treeReplaced', (tree) => {
      const base = tree.lastProcessedZxid;
      if (base > 0 && !this.txnAt.has(base)) this.fail('prefix', `server ${id} installed a snapshot at ${shortZxid(base)}, a zxid no replica ever applied`);
      state.prev = base;
      if (this.trace.enabled) this.trace.log(`s${id}`, `snapshot installed at ${shortZxid(base)}`);
    });
    server.on('trace', (event) => {
      if (!this.trace.enabled) return;
      switch (event.type) {
        case 'sync':
          if (event.side === 'leader') this.trace.log(`s${id}`, `sync s${event.peer}: ${event.mode.toUpperCase()} ${shortZxid(event.zxid)} +${event.txns} txns`);
          break;
        case 'epoch':
          this.trace.log(`s${id}`, `new epoch ${event.epoch}`);
          break;
        case 'roleFailed':
          this.trace.log(`s${id}`, `${event.role} failed: ${event.reason}`);
          break;
      }
    });
    server.on('applied', (txn, result) => this.onApplied(id, state, txn, result));
  }

  private onApplied(id: ServerId, state: ReplicaState, txn: Txn, result: ApplyResult): void {
    this.appliedCount++;
    const zxid = txn.header.zxid;
    // cxid 0 is no client request: a session's createSession and its expiry share it.
    const key = txn.header.cxid === 0 ? `${txn.header.sessionId}:0:${txn.body.kind}` : `${txn.header.sessionId}:${txn.header.cxid}`;
    const identity = `${key}|${txn.body.kind}`;
    const prev = state.prev;
    if (prev !== null && zxid <= prev) {
      this.fail('no-double-apply', `server ${id} applied ${shortZxid(zxid)} (${identity}) after ${shortZxid(prev)}`);
    }
    if (prev !== null && zxid > prev) {
      const next = this.successor.get(prev);
      if (next === undefined) this.successor.set(prev, zxid);
      else if (next !== zxid) this.fail('prefix', `server ${id} applied ${shortZxid(zxid)} right after ${shortZxid(prev)}, another replica applied ${shortZxid(next)} there`);
    }
    state.prev = zxid;
    const known = this.txnAt.get(zxid);
    if (known === undefined) {
      this.txnAt.set(zxid, identity);
      // One line per transaction: when the first replica (usually the leader) applies it.
      if (this.trace.enabled) this.trace.log(`s${id}`, `commit ${shortZxid(zxid)} ${txn.body.kind}${result.err !== 0 ? ` err ${result.err}` : ''} (${key})`);
    } else if (known !== identity) this.fail('prefix', `server ${id} applied ${identity} at ${shortZxid(zxid)}, another replica applied ${known} there`);
    if (txn.body.kind === 'closeSession' && !this.closedAt.has(txn.header.sessionId)) this.closedAt.set(txn.header.sessionId, zxid);
    if (txn.header.sessionId !== 0n) {
      const at = this.zxidOf.get(key);
      if (at === undefined) this.zxidOf.set(key, zxid);
      else if (at !== zxid) this.fail('no-double-apply', `request ${key} applied twice: at ${shortZxid(at)} and at ${shortZxid(zxid)} (server ${id})`);
    }
  }

  /**
   * `ephemerals` at the server level: a closeSession deletes every ephemeral node its
   * session created before it, on every replica. (Without a session tracker a late
   * request of a closed session may still create one afterwards; ZooKeeper's tracker
   * refuses it. With client sessions, extend this to expired sessions and to nodes
   * created after the close.)
   */
  checkEphemerals(servers: readonly QuorumServer[]): void {
    for (const server of servers) {
      if (!server.running) continue;
      const tree = server.tree;
      for (const path of tree.paths()) {
        const stat = tree.stat(path);
        if (stat === undefined || stat.ephemeralOwner === 0n) continue;
        const owner = stat.ephemeralOwner;
        const closed = this.closedAt.get(owner);
        const client = isSessionOwner(owner);
        // A session tracker refuses a closed session's later creates; without one (the
        // server-level workload) only the nodes created before the close must go.
        if (closed !== undefined && (client || stat.czxid < closed)) {
          this.fail('ephemerals', `server ${server.self} still has ephemeral ${path} (created at ${shortZxid(stat.czxid)}) of session ${hexId(owner)}, closed at ${shortZxid(closed)}`);
        } else if (client && !tree.sessions.has(owner)) {
          this.fail('ephemerals', `server ${server.self} has ephemeral ${path} (created at ${shortZxid(stat.czxid)}) of session ${hexId(owner)}, which is not live`);
        }
      }
    }
  }

  /**
   * End-of-run checks on a converged ensemble: every acknowledged write lies on the
   * committed chain, which ends where every replica's tree ends, and the digests agree.
   */
  checkFinal(servers: readonly QuorumServer[], acknowledged: readonly Acknowledged[]): void {
    const running = servers.filter((s) => s.running);
    if (running.length === 0) return;
    const last = running[0]!.lastAppliedZxid;
    const digest = running[0]!.digest();
    for (const s of running) {
      if (s.lastAppliedZxid !== last) this.fail('prefix', `after healing, server ${s.self} applied through ${shortZxid(s.lastAppliedZxid)}, server ${running[0]!.self} through ${shortZxid(last)}`);
      else if (s.digest() !== digest) this.fail('prefix', `after healing, server ${s.self}'s tree digest ${s.digest()} differs from server ${running[0]!.self}'s ${digest} at ${shortZxid(last)}`);
    }
    // The committed history the replicas ended with: the chain 0 -> successor -> ... -> last.
    const chain = new Set<number>();
    let z = 0;
    while (z !== last) {
      const next = this.successor.get(z);
      if (next === undefined || next > last) break;
      chain.add(next);
      z = next;
    }
    if (z !== last) {
      this.fail('prefix', `the committed chain from zxid 0 stops at ${shortZxid(z)} and never reaches ${shortZxid(last)}, where the replicas ended`);
      return;
    }
    const beyond = this.successor.get(last);
    if (beyond !== undefined) {
      this.fail('durability', `${shortZxid(beyond)} (${this.txnAt.get(beyond)}) was applied, hence committed, after ${shortZxid(last)}, but the replicas ended at ${shortZxid(last)}`);
    }
    for (const ack of acknowledged) {
      const identity = this.txnAt.get(ack.zxid);
      if (!chain.has(ack.zxid) || identity === undefined || !identity.startsWith(`${ack.key}|`)) {
        const where = ack.zxid > last ? `after the replicas' last zxid ${shortZxid(last)}` : `not on the committed chain (there: ${identity ?? 'nothing'})`;
        this.fail('durability', `write ${ack.key} acknowledged at ${shortZxid(ack.zxid)} is lost: ${where}`);
      }
    }
  }
}

/** Run the linearizability checker and turn a violation into a failure. */
export function checkLinearizability(history: History, options: CheckOptions = {}): { result: CheckResult; failure: CheckFailure | null } {
  const result = checkHistory(history, options);
  return { result, failure: result.status === 'violation' ? { checker: 'linearizability', message: result.message } : null };
}

/**
 * The session half of `ephemerals` once every client session was closed or its client
 * is gone (run after waiting for expiry): no replica still tracks a client session or
 * holds a client session's ephemeral.
 */
export function checkSessionsGone(servers: readonly QuorumServer[]): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const server of servers) {
    if (!server.running) continue;
    const tree = server.tree;
    const live = [...tree.sessions.keys()].filter(isClientSessionId);
    if (live.length > 0) {
      failures.push({ checker: 'ephemerals', message: `server ${server.self} still tracks session(s) ${live.slice(0, 3).map(hexId).join(', ')} after every client closed or died and their timeouts passed` });
    }
    for (const path of tree.paths()) {
      const owner = tree.stat(path)?.ephemeralOwner ?? 0n;
      if (isSessionOwner(owner)) {
        failures.push({ checker: 'ephemerals', message: `server ${server.self} still holds ephemeral ${path} of session ${hexId(owner)} after every session ended` });
        break;
      }
    }
    if (failures.length >= 3) break;
  }
  return failures;
}

/** True for an ephemeral owner that is a client session (not a container or TTL mark). */
function isSessionOwner(owner: bigint): boolean {
  if (owner === 0n || owner === CONTAINER_EPHEMERAL_OWNER) return false;
  if ((owner & TTL_EPHEMERAL_OWNER_MARK) === TTL_EPHEMERAL_OWNER_MARK) return false;
  return isClientSessionId(owner);
}

function hexId(id: bigint): string {
  return `0x${BigInt.asUintN(64, id).toString(16)}`;
}
