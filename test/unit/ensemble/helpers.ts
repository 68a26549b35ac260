/**
 * Shared helpers of the ensemble tests: deterministic ensembles on a VirtualClock, a
 * bounded clock driver, and request builders.
 */
import assert from 'node:assert/strict';
import { OpCode, Perms } from '../../../src/protocol/constants.js';
import { ZooKeeperError } from '../../../src/protocol/errors.js';
import type { ACL } from '../../../src/protocol/records.js';
import { seededRandom } from '../../../src/runtime/random.js';
import { createEnsemble, type Ensemble, type EnsembleOptions } from '../../../src/server/ensemble.js';
import type { QuorumServer, SyncResult } from '../../../src/server/quorum-server.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import type { ApplyResult } from '../../../src/tree/data-tree.js';
import type { PrepareRequest } from '../../../src/tree/prepare.js';

export const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const encoder = new TextEncoder();

/** A deterministic ensemble on a fresh VirtualClock (options may be built from the clock). */
export function virtualEnsemble(
  options: EnsembleOptions | ((clock: VirtualClock) => EnsembleOptions) = {},
  seed = 1,
): { ensemble: Ensemble; clock: VirtualClock } {
  const clock = new VirtualClock();
  const resolved = typeof options === 'function' ? options(clock) : options;
  const ensemble = createEnsemble({ clock, random: seededRandom(seed), ...resolved });
  return { ensemble, clock };
}

/** Run the clock until `condition` holds; fails the test after `withinMs` of virtual time. */
export function waitFor(clock: VirtualClock, condition: () => boolean, withinMs = 10_000, what = 'condition'): void {
  const deadline = clock.now() + withinMs;
  while (!condition()) {
    const next = clock.nextDeadline();
    if (next === undefined || next > deadline) assert.fail(`${what} not reached within ${withinMs} ms (virtual)`);
    clock.step();
  }
}

/** Let `ms` of virtual time pass. */
export function settle(clock: VirtualClock, ms: number): void {
  clock.advance(ms);
}

/** Wait until a leader serves and every running server serves. */
export function waitAllServing(ensemble: Ensemble, clock: VirtualClock, withinMs = 10_000): void {
  waitFor(clock, () => ensemble.allServing(), withinMs, 'every server serving');
}

/** A create request. */
export function create(path: string, data = 'x', flags = 0): PrepareRequest {
  return { type: OpCode.create, path, data: encoder.encode(data), acl: OPEN_ACL, flags };
}

/** A setData request. */
export function setData(path: string, data: string, version = -1): PrepareRequest {
  return { type: OpCode.setData, path, data: encoder.encode(data), version };
}

/** The outcome holder of one request. */
export interface Outcome<T> {
  done: boolean;
  value: T | ZooKeeperError | undefined;
}

/** Issue a write on `server`; returns a holder filled when it completes. */
export function write(server: QuorumServer, request: PrepareRequest, sessionId: bigint, cxid: number): Outcome<ApplyResult> {
  const outcome: Outcome<ApplyResult> = { done: false, value: undefined };
  server.write(request, { sessionId, cxid, authIds: [] }, (value) => {
    assert.equal(outcome.done, false, 'a request completed twice');
    outcome.done = true;
    outcome.value = value;
  });
  return outcome;
}

/** Issue a sync on `server`. */
export function sync(server: QuorumServer, path: string, sessionId: bigint, cxid: number): Outcome<SyncResult> {
  const outcome: Outcome<SyncResult> = { done: false, value: undefined };
  server.sync(path, { sessionId, cxid, authIds: [] }, (value) => {
    outcome.done = true;
    outcome.value = value;
  });
  return outcome;
}

/** True if the outcome is a success. */
export function succeeded<T>(outcome: Outcome<T>): boolean {
  return outcome.done && !(outcome.value instanceof ZooKeeperError);
}

/** The data of `path` on `server`'s tree as a string, or undefined. */
export function dataOf(server: QuorumServer, path: string): string | undefined {
  const node = server.tree.getData(path);
  return node === undefined || node.data === null ? undefined : new TextDecoder().decode(node.data);
}

/** Every running server has the same digest and last applied zxid. */
export function assertConverged(ensemble: Ensemble): void {
  const running = ensemble.servers.filter((s) => s.running);
  const first = running[0]!;
  for (const s of running) {
    assert.equal(s.lastAppliedZxid, first.lastAppliedZxid, `server ${s.id} applied ${s.lastAppliedZxid} vs ${first.lastAppliedZxid}`);
    assert.equal(s.digest(), first.digest(), `server ${s.id} digest differs`);
  }
}

/** One acknowledged write of a `Workload`. */
export interface Acknowledged {
  sessionId: bigint;
  cxid: number;
  /** The created node's path. */
  path: string;
  zxid: number;
}

/**
 * A stream of writes: every `intervalMs` each session whose previous write finished
 * issues `create /s<session>/n- (sequential)` with its cxid as data, on its server. It
 * records acknowledged writes; failed ones (ConnectionLoss) are simply not retried.
 */
export class Workload {
  readonly acknowledged: Acknowledged[] = [];
  failures = 0;
  private readonly busy = new Set<bigint>();
  private readonly cxids = new Map<bigint, number>();
  private timer: unknown = null;
  private running = false;

  constructor(
    private readonly ensemble: Ensemble,
    private readonly clock: VirtualClock,
    private readonly sessions: { sessionId: bigint; server: number }[],
  ) {}

  /** Create the parents (on the leader) and start the stream. */
  start(intervalMs = 5): void {
    const leader = this.ensemble.leader();
    assert.ok(leader, 'workload needs a serving leader to create its parents');
    const parents = this.sessions.map((s, i) => write(leader, create(`/s${s.sessionId}`, ''), 999_000n + BigInt(i), 1));
    waitFor(this.clock, () => parents.every((p) => p.done), 5_000, 'workload parents');
    this.running = true;
    const tick = (): void => {
      if (!this.running) return;
      for (const s of this.sessions) this.issue(s.sessionId, s.server);
      this.timer = this.clock.setTimeout(tick, intervalMs);
    };
    tick();
  }

  /** Stop issuing (pending writes still complete). */
  stop(): void {
    this.running = false;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
  }

  /** Writes issued and not finished. */
  get inFlight(): number {
    return this.busy.size;
  }

  private issue(sessionId: bigint, serverId: number): void {
    if (this.busy.has(sessionId)) return;
    const server = this.ensemble.server(serverId);
    const cxid = (this.cxids.get(sessionId) ?? 0) + 1;
    this.cxids.set(sessionId, cxid);
    this.busy.add(sessionId);
    server.write(create(`/s${sessionId}/n-`, String(cxid), 2), { sessionId, cxid, authIds: [] }, (result) => {
      this.busy.delete(sessionId);
      if (result instanceof ZooKeeperError) {
        this.failures++;
        return;
      }
      assert.equal(result.err, 0, `write failed with ${result.err}`);
      const outcome = result.outcome as { kind: string; path?: string };
      assert.equal(outcome.kind, 'create');
      this.acknowledged.push({ sessionId, cxid, path: outcome.path!, zxid: result.zxid });
    });
  }

  /**
   * On every running server: each acknowledged write is there with its data, and no
   * session's cxid appears twice (nothing applied twice).
   */
  assertDurableAndUnique(): void {
    for (const server of this.ensemble.servers.filter((s) => s.running)) {
      for (const ack of this.acknowledged) {
        assert.equal(dataOf(server, ack.path), String(ack.cxid), `server ${server.id} lost acknowledged ${ack.path}`);
      }
      for (const s of this.sessions) {
        const children = server.tree.getChildren(`/s${s.sessionId}`) ?? [];
        const seen = new Set<string>();
        for (const child of children) {
          const data = dataOf(server, `/s${s.sessionId}/${child}`)!;
          assert.ok(!seen.has(data), `server ${server.id}: cxid ${data} of session ${s.sessionId} applied twice`);
          seen.add(data);
        }
      }
    }
  }
}
