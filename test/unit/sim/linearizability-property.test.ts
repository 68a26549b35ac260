import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CreateMode } from '../../../src/protocol/constants.js';
import { seededRandom, type Random } from '../../../src/runtime/random.js';
import { checkHistory, type CheckResult } from '../../../src/sim/linearizability.js';
import { ZOOKEEPER_INITIAL_NODES, ZnodeModel, type InitialNode } from '../../../src/sim/znode-model.js';
import type { HistoryOp, MultiSubOp, Operation, Outcome } from '../../../src/sim/history.js';

const INITIAL: InitialNode[] = [...ZOOKEEPER_INITIAL_NODES, { path: '/q' }, { path: '/k0', data: 'init' }];

interface GenOptions {
  ops: number;
  clients: number;
  keys: number;
  /** Reads return any allowed older state, not just the current one. */
  lag: boolean;
  /** Probability that a write's outcome is unknown. */
  unknownRate: number;
}

interface Snapshot {
  nodes: Map<string, { data: string; version: number } | null>;
  queue: string[];
}

/**
 * A random execution that ZooKeeper could produce: one order of writes (and syncs), each
 * at a point inside its [invoke, complete] interval; each read returns the state after
 * a prefix of that order that is at least as new as everything its client already
 * observed (own completed writes, syncs, earlier reads) and no newer than its own point.
 */
function generate(seed: number, o: GenOptions): Operation[] {
  const rnd = seededRandom(seed);
  const model = new ZnodeModel(INITIAL);
  const keys = Array.from({ length: o.keys }, (_, i) => `/k${i}`);
  const snapshot = (): Snapshot => ({
    nodes: new Map(keys.map((k) => [k, model.get(k) ? { data: model.get(k)!.data, version: model.get(k)!.version } : null])),
    queue: model.children('/q'),
  });
  const snapshots: Snapshot[] = [snapshot()];
  // Per client: (completion time, position in the order) of everything it observed.
  const seen = new Map<number, { complete: number; position: number }[]>();
  let clients = Array.from({ length: o.clients }, (_, i) => i + 1);
  let nextClient = o.clients + 1;
  const ops: Operation[] = [];
  const key = (): string => keys[rnd.int(keys.length)]!;
  const version = (): number => (rnd.chance(0.3) ? rnd.int(3) : -1);

  for (let i = 0; i < o.ops; i++) {
    const point = 10 * (i + 1);
    const invoke = point - rnd.int(16);
    const complete = point + 1 + rnd.int(16);
    const client = clients[rnd.int(clients.length)]!;
    const op = randomOp(rnd, i, key, version);
    const observed = seen.get(client) ?? [];
    seen.set(client, observed);
    let outcome: Outcome;
    let completed = true;
    if (op.type === 'getData' || op.type === 'exists' || op.type === 'getChildren') {
      const floor = Math.max(0, ...observed.filter((x) => x.complete < invoke).map((x) => x.position));
      const newest = snapshots.length - 1;
      const k = o.lag ? floor + rnd.int(newest - floor + 1) : newest;
      outcome = readFrom(snapshots[k]!, op);
      if (rnd.chance(0.03)) {
        outcome = { status: 'unknown' };
        completed = false;
      } else {
        observed.push({ complete, position: k });
      }
    } else {
      const unknown = rnd.chance(o.unknownRate) && op.type !== 'closeSession';
      const happens = !unknown || rnd.chance(0.5);
      if (happens) {
        const obs = model.apply(op, client);
        snapshots.push(snapshot());
        outcome = obs.ok ? ({ status: 'ok', result: obs.result } as Outcome) : { status: 'fail', code: obs.code, ...(obs.index === undefined ? {} : { index: obs.index }) };
      } else {
        outcome = { status: 'unknown' };
      }
      if (unknown) {
        outcome = { status: 'unknown' };
        completed = false;
      } else {
        observed.push({ complete, position: snapshots.length - 1 });
      }
      if (op.type === 'closeSession') {
        clients = clients.map((c) => (c === client ? nextClient++ : c));
      }
    }
    ops.push({ id: i + 1, client, op, invoke, complete: completed ? complete : null, outcome });
  }
  return ops;
}

function randomOp(rnd: Random, i: number, key: () => string, version: () => number): HistoryOp {
  const r = rnd.next();
  const persistentOrEphemeral = (): CreateMode => (rnd.chance(0.3) ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT);
  if (r < 0.22) return { type: 'setData', path: key(), data: `v${i}`, version: version() };
  if (r < 0.32) return { type: 'create', path: key(), data: `c${i}`, mode: persistentOrEphemeral() };
  if (r < 0.38) return { type: 'delete', path: key(), version: version() };
  if (r < 0.45) {
    const mode = rnd.chance(0.5) ? CreateMode.PERSISTENT_SEQUENTIAL : CreateMode.EPHEMERAL_SEQUENTIAL;
    return { type: 'create', path: '/q/n-', data: `s${i}`, mode };
  }
  if (r < 0.5) {
    const sub = (j: number): MultiSubOp => {
      const s = rnd.int(4);
      if (s === 0) return { type: 'create', path: key(), data: `m${i}.${j}`, mode: CreateMode.PERSISTENT };
      if (s === 1) return { type: 'setData', path: key(), data: `m${i}.${j}`, version: version() };
      if (s === 2) return { type: 'delete', path: key(), version: version() };
      return { type: 'check', path: key(), version: version() };
    };
    return { type: 'multi', ops: [sub(0), sub(1)] };
  }
  if (r < 0.55) return { type: 'sync', path: '/' };
  if (r < 0.57) return { type: 'closeSession' };
  if (r < 0.75) return { type: 'getData', path: key() };
  if (r < 0.85) return { type: 'exists', path: key() };
  return { type: 'getChildren', path: '/q' };
}

function readFrom(s: Snapshot, op: HistoryOp): Outcome {
  if (op.type === 'getChildren') return { status: 'ok', result: s.queue } as Outcome;
  const node = s.nodes.get((op as { path: string }).path) ?? null;
  if (op.type === 'exists') return { status: 'ok', result: node === null ? null : node.version } as Outcome;
  return node === null ? { status: 'fail', code: -101 } : ({ status: 'ok', result: { data: node.data, version: node.version } } as Outcome);
}

function explain(r: CheckResult): string {
  return r.status === 'violation' ? r.message : r.status === 'unknown' ? r.reason : '';
}

const options = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  ops: fc.integer({ min: 5, max: 60 }),
  clients: fc.integer({ min: 1, max: 5 }),
  keys: fc.integer({ min: 1, max: 4 }),
  lag: fc.boolean(),
  unknownRate: fc.constantFrom(0, 0.05, 0.15),
});

test('property: every execution ZooKeeper could produce passes', () => {
  fc.assert(
    fc.property(options, ({ seed, ...o }) => {
      const h = generate(seed, o);
      for (const sync of ['bound', 'point'] as const) {
        const r = checkHistory(h, { initial: INITIAL, sync });
        assert.equal(r.status, 'ok', `${sync}: ${explain(r)}`);
      }
      const whole = checkHistory(h, { initial: INITIAL, partition: false, quickStates: 0 });
      assert.equal(whole.status, 'ok', explain(whole));
      const parted = checkHistory(h, { initial: INITIAL, quickStates: 0 });
      assert.equal(parted.status, 'ok', explain(parted));
    }),
    { numRuns: 150, seed: 7 },
  );
});

test('property: a read of a value never written is a violation naming that read', () => {
  fc.assert(
    fc.property(options, fc.nat(), ({ seed, ...o }, pick) => {
      const h = generate(seed, { ...o, ops: o.ops + 10 });
      const reads = h.filter((x) => x.op.type === 'getData' && x.outcome.status === 'ok');
      fc.pre(reads.length > 0);
      const target = reads[pick % reads.length]!;
      const mutated = h.map((x) =>
        x === target ? { ...x, outcome: { status: 'ok', result: { data: 'never-written', version: 0 } } as Outcome } : x,
      );
      for (const quickStates of [undefined, 0]) {
        const r = checkHistory(mutated, { initial: INITIAL, quickStates });
        assert.equal(r.status, 'violation');
        if (r.status === 'violation') {
          assert.ok(
            r.operations.some((x) => x.id === target.id),
            `#${target.id} not named: ${r.message}`,
          );
        }
      }
    }),
    { numRuns: 150, seed: 11 },
  );
});

test('a 200-operation history of 5 clients completes within the default budget', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const h = generate(seed, { ops: 200, clients: 5, keys: 4, lag: true, unknownRate: 0.05 });
    const r = checkHistory(h, { initial: INITIAL });
    assert.equal(r.status, 'ok', `seed ${seed}: ${explain(r)}`);
  }
});
