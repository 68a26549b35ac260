/**
 * Model-based check of WatchRegistry: random operation sequences against a plain list of
 * (watcher, path, table, mode) entries that states §13 directly.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventType, WatcherType } from '../../../src/protocol/constants.js';
import { isUnder } from '../../../src/tree/path.js';
import { WatchMode, WatchRegistry, type WatchTableName } from '../../../src/tree/watches.js';

interface Entry {
  w: string;
  path: string;
  table: WatchTableName;
  mode: WatchMode;
}

type Op =
  | { kind: 'data' | 'child'; w: string; path: string }
  | { kind: 'persistent'; w: string; path: string; recursive: boolean }
  | { kind: 'remove'; w: string; path: string; watcherType: number; dryRun: boolean }
  | { kind: 'removeWatcher'; w: string }
  | { kind: 'trigger'; type: EventType; path: string };

const paths = ['/', '/a', '/a/b', '/a/b/c', '/a/c', '/b', '/ab'];
const watchers = ['w1', 'w2', 'w3'];
const path = fc.constantFrom(...paths);
const watcher = fc.constantFrom(...watchers);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('data' as const, 'child' as const), w: watcher, path }),
  fc.record({ kind: fc.constant('persistent' as const), w: watcher, path, recursive: fc.boolean() }),
  fc.record({
    kind: fc.constant('remove' as const),
    w: watcher,
    path,
    watcherType: fc.constantFrom(WatcherType.Children, WatcherType.Data, WatcherType.Any),
    dryRun: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('removeWatcher' as const), w: watcher }),
  fc.record({
    kind: fc.constant('trigger' as const),
    type: fc.constantFrom(EventType.NodeCreated, EventType.NodeDeleted, EventType.NodeDataChanged, EventType.NodeChildrenChanged),
    path,
  }),
);

class Model {
  entries: Entry[] = [];

  add(e: Entry): void {
    if (!this.entries.some((x) => x.w === e.w && x.path === e.path && x.table === e.table && x.mode === e.mode)) this.entries.push(e);
  }

  remove(w: string, p: string, watcherType: number, dryRun: boolean): boolean {
    const tables: WatchTableName[] =
      watcherType === WatcherType.Any ? ['data', 'child'] : watcherType === WatcherType.Data ? ['data'] : ['child'];
    const hit = (x: Entry): boolean => x.w === w && x.path === p && tables.includes(x.table);
    const found = this.entries.some(hit);
    if (!dryRun) this.entries = this.entries.filter((x) => !hit(x));
    return found;
  }

  trigger(type: EventType, p: string): Set<string> {
    const tables: WatchTableName[] =
      type === EventType.NodeDeleted ? ['data', 'child'] : type === EventType.NodeChildrenChanged ? ['child'] : ['data'];
    const fires = (x: Entry): boolean =>
      tables.includes(x.table) &&
      (x.mode === WatchMode.PERSISTENT_RECURSIVE ? type !== EventType.NodeChildrenChanged && isUnder(p, x.path) : x.path === p);
    const out = new Set(this.entries.filter(fires).map((x) => x.w));
    this.entries = this.entries.filter((x) => !(fires(x) && x.mode === WatchMode.STANDARD));
    return out;
  }

  keys(table: WatchTableName): Set<string> {
    return new Set(this.entries.filter((x) => x.table === table).map((x) => `${x.w} ${x.path}`));
  }
}

describe('WatchRegistry against a model', () => {
  it('agrees on deliveries, removals and counts for random sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const registry = new WatchRegistry<string>();
        const model = new Model();
        for (const o of ops) {
          switch (o.kind) {
            case 'data':
              registry.addDataWatch(o.w, o.path);
              model.add({ w: o.w, path: o.path, table: 'data', mode: WatchMode.STANDARD });
              break;
            case 'child':
              registry.addChildWatch(o.w, o.path);
              model.add({ w: o.w, path: o.path, table: 'child', mode: WatchMode.STANDARD });
              break;
            case 'persistent': {
              registry.addPersistentWatch(o.w, o.path, o.recursive);
              const mode = o.recursive ? WatchMode.PERSISTENT_RECURSIVE : WatchMode.PERSISTENT;
              model.add({ w: o.w, path: o.path, table: 'data', mode });
              model.add({ w: o.w, path: o.path, table: 'child', mode });
              break;
            }
            case 'remove':
              assert.equal(
                registry.removeWatches(o.w, o.path, o.watcherType, { dryRun: o.dryRun }),
                model.remove(o.w, o.path, o.watcherType, o.dryRun),
              );
              break;
            case 'removeWatcher':
              registry.removeWatcher(o.w);
              model.entries = model.entries.filter((x) => x.w !== o.w);
              break;
            case 'trigger': {
              const got: string[] = [];
              registry.trigger({ type: o.type, path: o.path }, (w) => got.push(w));
              assert.equal(new Set(got).size, got.length, 'one delivery per watcher');
              assert.deepEqual(new Set(got), model.trigger(o.type, o.path));
              break;
            }
          }
          for (const table of ['data', 'child'] as const) {
            const keys = model.keys(table);
            assert.equal(registry.summary(table).total, keys.size);
            assert.equal(
              registry.recursiveWatchCount(table),
              model.entries.filter((x) => x.table === table && x.mode === WatchMode.PERSISTENT_RECURSIVE).length,
            );
            const listed = new Set<string>();
            for (const [w, ps] of registry.byWatcher(table)) for (const p of ps) listed.add(`${w} ${p}`);
            assert.deepEqual(listed, keys);
          }
          for (const w of watchers) assert.equal(registry.hasWatches(w), model.entries.some((x) => x.w === w));
          assert.equal(registry.isEmpty(), model.entries.length === 0);
        }
      }),
      { numRuns: 300, seed: 20240601 },
    );
  });
});
