/**
 * Tree hot-path micro benchmark, in CPU time (`process.cpuUsage`), so it stays meaningful
 * on a loaded machine: each phase runs `ROUNDS` times and reports the median rate per
 * CPU-second. Phases: prepare and apply of create / setData / delete, the same applies
 * on a second tree with `{ result: false }` (a replica nobody reads results from), the
 * reads (getData, getDataInto, exists, stat, getChildren), reading the digest after
 * each setData (the worst case for the lazily maintained digest), and snapshot
 * serialize / deserialize. Tree: 100 parents × 1000 children with 100-byte data
 * (10 × 1000 with --quick).
 *
 * Run: `node --expose-gc --import tsx bench/tree/micro.ts [--quick] [--json]`.
 */
import { pathToFileURL } from 'node:url';
import { OpCode } from '../../src/protocol/constants.js';
import type { CreateRequest, Stat } from '../../src/protocol/records.js';
import type { Txn, TxnHeader } from '../../src/protocol/txn.js';
import { makeZxid } from '../../src/protocol/zxid.js';
import { OPEN_ACL_UNSAFE } from '../../src/tree/acl.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { RequestPreparer } from '../../src/tree/prepare.js';
import { quick, report, type Metric } from '../report.js';
import { cpuNow } from './cpu-time.js';

const PARENTS = quick ? 10 : 100;
const FANOUT = 1000;
const N = PARENTS * FANOUT;
const ROUNDS = quick ? 5 : 9;
const CHUNK = 1000;
const SESSION = 0x0100_0000_0000_0001n;
const T0 = 1_700_000_000_000;
const ACL = OPEN_ACL_UNSAFE as CreateRequest['acl'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** CPU microseconds used by this process so far. */
function cpuMicros(): number {
  return cpuNow() * 1000;
}

/** Accumulates CPU time and op counts per phase across rounds. */
class Phases {
  private readonly rates = new Map<string, number[]>();

  /** Time `fn` (which performs `ops` operations) in CPU time and record its rate. */
  run(name: string, ops: number, fn: () => void): void {
    const start = cpuMicros();
    fn();
    const micros = Math.max(1, cpuMicros() - start);
    let list = this.rates.get(name);
    if (list === undefined) this.rates.set(name, (list = []));
    list.push(ops / (micros / 1e6));
  }

  /** Record a rate computed elsewhere. */
  add(name: string, rate: number): void {
    let list = this.rates.get(name);
    if (list === undefined) this.rates.set(name, (list = []));
    list.push(rate);
  }

  metrics(unit: (name: string) => string): Metric[] {
    return [...this.rates].map(([name, list]) => ({ metric: `tree.cpu.${name}`, value: Math.round(median(list)), unit: unit(name), note: `median of ${list.length}, per CPU-second` }));
  }
}

function payload(i: number): Uint8Array {
  const data = new Uint8Array(100);
  for (let k = 0; k < 100; k += 4) data[k] = (i + k) & 0xff;
  return data;
}

/** Measure the tree's hot paths (see the module comment). */
export function measureTreeCpu(): Metric[] {
  const tree = new DataTree();
  const replica = new DataTree();
  const preparer = new RequestPreparer(tree);
  const NO_RESULT = { result: false } as const;
  const both = (txn: Txn): void => {
    tree.apply(txn);
    replica.apply(txn, NO_RESULT);
  };
  let counter = 0;
  const header = (): TxnHeader => {
    counter++;
    return { sessionId: SESSION, cxid: counter, zxid: makeZxid(3, counter), time: T0 + counter };
  };
  const paths: string[] = [];
  both(preparer.prepare(header(), { type: OpCode.create, path: '/bench', data: null, acl: ACL, flags: 0 }));
  for (let p = 0; p < PARENTS; p++) {
    both(preparer.prepare(header(), { type: OpCode.create, path: `/bench/p${p}`, data: null, acl: ACL, flags: 0 }));
    for (let j = 0; j < FANOUT; j++) {
      const path = `/bench/p${p}/n${j}`;
      paths.push(path);
      both(preparer.prepare(header(), { type: OpCode.create, path, data: payload(j), acl: ACL, flags: 0 }));
    }
  }
  const phases = new Phases();
  const txns: Txn[] = new Array(CHUNK);

  for (let round = 0; round < ROUNDS; round++) {
    // create / delete of CHUNK fresh nodes spread over all parents, in chunks.
    const fresh = Array.from({ length: N / 10 }, (_, i) => `/bench/p${i % PARENTS}/x${round}_${i}`);
    const datas = fresh.map((_, i) => payload(i));
    let prepMicros = 0;
    let applyMicros = 0;
    let replicaMicros = 0;
    for (let base = 0; base < fresh.length; base += CHUNK) {
      const requests = Array.from({ length: CHUNK }, (_, i): CreateRequest => ({ type: OpCode.create, path: fresh[base + i]!, data: datas[base + i]!, acl: ACL, flags: 0 }));
      const t0 = cpuMicros();
      for (let i = 0; i < CHUNK; i++) txns[i] = preparer.prepare(header(), requests[i]!);
      const t1 = cpuMicros();
      for (let i = 0; i < CHUNK; i++) tree.apply(txns[i]!);
      const t2 = cpuMicros();
      for (let i = 0; i < CHUNK; i++) replica.apply(txns[i]!, NO_RESULT);
      const t3 = cpuMicros();
      prepMicros += t1 - t0;
      applyMicros += t2 - t1;
      replicaMicros += t3 - t2;
    }
    phases.add('prepare_create', fresh.length / (prepMicros / 1e6));
    phases.add('apply_create', fresh.length / (applyMicros / 1e6));
    phases.add('apply_create_no_result', fresh.length / (replicaMicros / 1e6));

    // setData on existing nodes, prepare then apply.
    prepMicros = 0;
    applyMicros = 0;
    replicaMicros = 0;
    for (let base = 0; base < N; base += CHUNK) {
      const requests = Array.from({ length: CHUNK }, (_, i) => ({ type: OpCode.setData, path: paths[((base + i) * 7919) % N]!, data: datas[i]!, version: -1 }) as const);
      const t0 = cpuMicros();
      for (let i = 0; i < CHUNK; i++) txns[i] = preparer.prepare(header(), requests[i]!);
      const t1 = cpuMicros();
      for (let i = 0; i < CHUNK; i++) tree.apply(txns[i]!);
      const t2 = cpuMicros();
      for (let i = 0; i < CHUNK; i++) replica.apply(txns[i]!, NO_RESULT);
      const t3 = cpuMicros();
      prepMicros += t1 - t0;
      applyMicros += t2 - t1;
      replicaMicros += t3 - t2;
    }
    phases.add('prepare_setdata', N / (prepMicros / 1e6));
    phases.add('apply_setdata', N / (applyMicros / 1e6));
    phases.add('apply_setdata_no_result', N / (replicaMicros / 1e6));

    // delete the fresh nodes.
    prepMicros = 0;
    applyMicros = 0;
    replicaMicros = 0;
    for (let base = 0; base < fresh.length; base += CHUNK) {
      const requests = Array.from({ length: CHUNK }, (_, i) => ({ type: OpCode.delete, path: fresh[base + i]!, version: -1 }) as const);
      const t0 = cpuMicros();
      for (let i = 0; i < CHUNK; i++) txns[i] = preparer.prepare(header(), requests[i]!);
      const t1 = cpuMicros();
      for (let i = 0; i < CHUNK; i++) tree.apply(txns[i]!);
      const t2 = cpuMicros();
      for (let i = 0; i < CHUNK; i++) replica.apply(txns[i]!, NO_RESULT);
      const t3 = cpuMicros();
      prepMicros += t1 - t0;
      applyMicros += t2 - t1;
      replicaMicros += t3 - t2;
    }
    phases.add('prepare_delete', fresh.length / (prepMicros / 1e6));
    phases.add('apply_delete', fresh.length / (applyMicros / 1e6));
    phases.add('apply_delete_no_result', fresh.length / (replicaMicros / 1e6));

    // setData on two replicas, comparing their digests after each one (every change
    // re-hashed at once: the worst case for the lazy digest). Counted per setData.
    const digestOps = N / 10;
    tree.digest(); // settle what earlier phases left pending, outside the timing
    replica.digest();
    phases.run('setdata_with_digest', digestOps, () => {
      for (let i = 0; i < digestOps; i++) {
        both(preparer.prepare(header(), { type: OpCode.setData, path: paths[(i * 7919) % N]!, data: datas[i]!, version: -1 }));
        if (tree.digest() !== replica.digest()) throw new Error('replicas diverged');
      }
    });

    // Reads: 10 passes over all nodes in a scattered order.
    const reads = N * 10;
    let sink = 0;
    phases.run('getdata', reads, () => {
      for (let i = 0; i < reads; i++) sink += tree.getData(paths[(i * 104729) % N]!)!.stat.dataLength;
    });
    const into = { data: null as Uint8Array | null, stat: tree.stat('/')! };
    phases.run('getdata_into', reads, () => {
      for (let i = 0; i < reads; i++) sink += tree.getDataInto(paths[(i * 104729) % N]!, into)!.stat.dataLength;
    });
    phases.run('exists', reads, () => {
      for (let i = 0; i < reads; i++) if (tree.exists(paths[(i * 104729) % N]!)) sink++;
    });
    phases.run('stat', reads, () => {
      for (let i = 0; i < reads; i++) sink += (tree.stat(paths[(i * 104729) % N]!) as Stat).version;
    });
    const parentPaths = Array.from({ length: PARENTS }, (_, p) => `/bench/p${p}`);
    const childReads = 2000;
    phases.run('getchildren_1000', childReads, () => {
      for (let i = 0; i < childReads; i++) sink += tree.getChildren(parentPaths[i % PARENTS]!)!.length;
    });
    if (sink === 0) throw new Error('reads returned nothing');

    // Snapshot.
    let snap: Uint8Array = new Uint8Array(0);
    phases.run('snapshot_serialize_nodes', tree.nodeCount, () => {
      snap = tree.serialize();
    });
    let restored: DataTree | undefined;
    phases.run('snapshot_deserialize_nodes', tree.nodeCount, () => {
      restored = DataTree.deserialize(snap);
    });
    if (restored!.digest() !== tree.digest()) throw new Error('snapshot round trip changed the digest');
  }
  return phases.metrics((name) => (name.startsWith('snapshot') ? 'nodes/s' : 'ops/s'));
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) report('tree-cpu', measureTreeCpu());
