/**
 * Watch registry benchmark: registration rate and trigger cost for 100k one-shot and
 * 100k persistent watches on one node, 10k recursive watchers 10 levels up, and the
 * cost of a trigger nobody watches. Imported by bench/tree/index.ts; runnable alone:
 * `node --expose-gc --import tsx bench/tree/watches.ts [--quick] [--json]`.
 */
import { pathToFileURL } from 'node:url';
import { EventType } from '../../src/protocol/constants.js';
import type { WatchEvent } from '../../src/tree/events.js';
import { WatchRegistry } from '../../src/tree/watches.js';
import { heapUsedAfterGc, quick, report, type Metric } from '../report.js';
import { cpuNow } from './cpu-time.js';

/** Stand-in for a server connection: an object identity with a delivery counter. */
interface Conn {
  id: number;
  events: number;
}

const deliver = (conn: Conn, _event: WatchEvent): void => {
  conn.events++;
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function connections(n: number): Conn[] {
  return Array.from({ length: n }, (_, id) => ({ id, events: 0 }));
}

/** A path `depth` levels deep: /l0/l1/.../l{depth-1}. */
function deepPath(depth: number): string {
  let path = '';
  for (let i = 0; i < depth; i++) path += `/l${i}`;
  return path;
}

/** Measure the watch registry; sizes shrink 10× with --quick. */
export function measureWatchTrigger(): Metric[] {
  const n = quick ? 10_000 : 100_000;
  const nRecursive = quick ? 1_000 : 10_000;
  const reps = quick ? 3 : 7;
  const note = quick ? `quick: ${n} watches` : undefined;
  const metrics: Metric[] = [];
  const conns = connections(n);
  const changed: WatchEvent = { type: EventType.NodeDataChanged, path: '/hot' };

  // One-shot data watches: register n, trigger once (all fire and are removed).
  const registerTimes: number[] = [];
  const oneShotTimes: number[] = [];
  const registry = new WatchRegistry<Conn>();
  for (let rep = 0; rep < reps; rep++) {
    let t0 = cpuNow();
    for (let i = 0; i < n; i++) registry.addDataWatch(conns[i]!, '/hot');
    registerTimes.push(cpuNow() - t0);
    t0 = cpuNow();
    const delivered = registry.trigger(changed, deliver);
    oneShotTimes.push(cpuNow() - t0);
    if (delivered !== n) throw new Error(`one-shot trigger delivered ${delivered}, expected ${n}`);
  }
  const oneShotMs = median(oneShotTimes);
  metrics.push(
    { metric: 'tree.watch_register_per_s', value: Math.round(n / (median(registerTimes) / 1000)), unit: 'watches/s', note },
    { metric: 'tree.watch_trigger_100k_ms', value: oneShotMs, unit: 'ms', note: note ?? 'one-shot data watches, one NodeDataChanged' },
    { metric: 'tree.watch_delivery_ns', value: (oneShotMs * 1e6) / n, unit: 'ns/delivery', note: 'one-shot' },
    { metric: 'tree.watch_deliveries_per_s', value: Math.round(n / (oneShotMs / 1000)), unit: 'deliveries/s', note: 'one-shot' },
  );

  // Persistent watches: register once, trigger repeatedly (they stay).
  const persistent = new WatchRegistry<Conn>();
  const heapBefore = heapUsedAfterGc();
  for (let i = 0; i < n; i++) persistent.addPersistentWatch(conns[i]!, '/hot', false);
  const heapAfter = heapUsedAfterGc();
  const persistentTimes: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const t0 = cpuNow();
    persistent.trigger(changed, deliver);
    persistentTimes.push(cpuNow() - t0);
  }
  const persistentMs = median(persistentTimes);
  metrics.push(
    { metric: 'tree.watch_trigger_100k_persistent_ms', value: persistentMs, unit: 'ms', note },
    { metric: 'tree.watch_persistent_delivery_ns', value: (persistentMs * 1e6) / n, unit: 'ns/delivery' },
    { metric: 'tree.watch_persistent_bytes', value: Math.round((heapAfter - heapBefore) / n), unit: 'bytes/watch', note: 'both tables, fresh watchers' },
  );

  // Recursive watchers on an ancestor 10 levels above the changed node.
  const recursive = new WatchRegistry<Conn>();
  const base = deepPath(2);
  const leaf = base + deepPath(10).replace(/\/l/g, '/r');
  for (let i = 0; i < nRecursive; i++) recursive.addPersistentWatch(conns[i]!, base, true);
  const leafEvent: WatchEvent = { type: EventType.NodeDataChanged, path: leaf };
  const recursiveTimes: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const t0 = cpuNow();
    const delivered = recursive.trigger(leafEvent, deliver);
    recursiveTimes.push(cpuNow() - t0);
    if (delivered !== nRecursive) throw new Error(`recursive trigger delivered ${delivered}, expected ${nRecursive}`);
  }
  const recursiveMs = median(recursiveTimes);
  metrics.push(
    { metric: 'tree.watch_trigger_10k_recursive_ms', value: recursiveMs, unit: 'ms', note: quick ? `quick: ${nRecursive} watchers` : 'ancestor 10 levels up' },
    { metric: 'tree.watch_recursive_delivery_ns', value: (recursiveMs * 1e6) / nRecursive, unit: 'ns/delivery' },
  );

  // Triggers nobody watches: the common case of every write (with and without a
  // recursive watch somewhere, which forces the ancestor walk).
  const idle = quick ? 100_000 : 1_000_000;
  const unwatched: WatchEvent = { type: EventType.NodeDataChanged, path: '/other/x/y/z' };
  let t0 = cpuNow();
  for (let i = 0; i < idle; i++) persistent.trigger(unwatched, deliver);
  const plainNs = ((cpuNow() - t0) * 1e6) / idle;
  t0 = cpuNow();
  for (let i = 0; i < idle; i++) recursive.trigger(unwatched, deliver);
  const walkNs = ((cpuNow() - t0) * 1e6) / idle;
  metrics.push(
    { metric: 'tree.watch_trigger_unwatched_ns', value: plainNs, unit: 'ns/trigger', note: 'no recursive watches' },
    { metric: 'tree.watch_trigger_unwatched_walk_ns', value: walkNs, unit: 'ns/trigger', note: 'recursive watch elsewhere, depth 4' },
  );
  return metrics;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  report('tree.watches', measureWatchTrigger());
}
