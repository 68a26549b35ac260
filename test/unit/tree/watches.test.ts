import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventType, OpCode, WatcherType } from '../../../src/protocol/constants.js';
import type { SetWatchesRequest } from '../../../src/protocol/records.js';
import type { WatchEvent } from '../../../src/tree/events.js';
import { WatchMode, WatchRegistry } from '../../../src/tree/watches.js';

type Delivery = [watcher: string, type: number, path: string];

/** Trigger one event and return the deliveries in order. */
function fire(registry: WatchRegistry<string>, type: EventType, path: string): Delivery[] {
  const out: Delivery[] = [];
  const count = registry.trigger({ type, path }, (w, e) => out.push([w, e.type, e.path]));
  assert.equal(count, out.length);
  return out;
}

const { NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged } = EventType;

describe('WatchRegistry: which table each event reads', () => {
  it('NodeCreated and NodeDataChanged fire data watches only', () => {
    for (const type of [NodeCreated, NodeDataChanged]) {
      const r = new WatchRegistry<string>();
      r.addDataWatch('d', '/a');
      r.addChildWatch('c', '/a');
      assert.deepEqual(fire(r, type, '/a'), [['d', type, '/a']]);
      assert.equal(r.hasWatch('c', '/a', 'child'), true);
    }
  });

  it('NodeChildrenChanged fires child watches only', () => {
    const r = new WatchRegistry<string>();
    r.addDataWatch('d', '/a');
    r.addChildWatch('c', '/a');
    assert.deepEqual(fire(r, NodeChildrenChanged, '/a'), [['c', NodeChildrenChanged, '/a']]);
    assert.equal(r.hasWatch('d', '/a', 'data'), true);
  });

  it('NodeDeleted fires data then child watches, once per watcher', () => {
    const r = new WatchRegistry<string>();
    r.addChildWatch('c', '/a');
    r.addDataWatch('d', '/a');
    r.addDataWatch('both', '/a');
    r.addChildWatch('both', '/a');
    assert.deepEqual(fire(r, NodeDeleted, '/a'), [
      ['d', NodeDeleted, '/a'],
      ['both', NodeDeleted, '/a'],
      ['c', NodeDeleted, '/a'],
    ]);
    assert.deepEqual(fire(r, NodeDeleted, '/a'), []);
    assert.equal(r.size(), 0);
  });

  it('NodeDeleted on a child-watched node notifies the child watcher', () => {
    const r = new WatchRegistry<string>();
    r.addChildWatch('c', '/a');
    assert.deepEqual(fire(r, NodeDeleted, '/a'), [['c', NodeDeleted, '/a']]);
  });

  it('an exists watch on a missing node fires on NodeCreated', () => {
    const r = new WatchRegistry<string>();
    r.addDataWatch('x', '/missing');
    assert.deepEqual(fire(r, NodeCreated, '/missing'), [['x', NodeCreated, '/missing']]);
    assert.deepEqual(fire(r, NodeDataChanged, '/missing'), []);
  });

  it('only the exact path fires for standard watches', () => {
    const r = new WatchRegistry<string>();
    r.addDataWatch('x', '/a');
    r.addChildWatch('x', '/a');
    assert.deepEqual(fire(r, NodeDataChanged, '/a/b'), []);
    assert.deepEqual(fire(r, NodeDeleted, '/a/b'), []);
    assert.deepEqual(fire(r, NodeDataChanged, '/ab'), []);
    assert.equal(r.size(), 2);
  });

  it('passes the same event object to every delivery', () => {
    const r = new WatchRegistry<string>();
    r.addDataWatch('a', '/x');
    r.addDataWatch('b', '/x');
    const event: WatchEvent = { type: NodeDataChanged, path: '/x' };
    const seen: WatchEvent[] = [];
    r.trigger(event, (_w, e) => seen.push(e));
    assert.equal(seen.length, 2);
    assert.ok(seen.every((e) => e === event));
  });
});

describe('WatchRegistry: modes', () => {
  it('standard watches fire once and are removed', () => {
    const r = new WatchRegistry<string>();
    r.addDataWatch('a', '/n');
    assert.equal(fire(r, NodeDataChanged, '/n').length, 1);
    assert.equal(fire(r, NodeDataChanged, '/n').length, 0);
    assert.equal(r.hasWatches('a'), false);
  });

  it('persistent watches fire every time, for data and child events of the path only', () => {
    const r = new WatchRegistry<string>();
    r.addPersistentWatch('p', '/n', false);
    for (let i = 0; i < 3; i++) assert.deepEqual(fire(r, NodeDataChanged, '/n'), [['p', NodeDataChanged, '/n']]);
    assert.deepEqual(fire(r, NodeChildrenChanged, '/n'), [['p', NodeChildrenChanged, '/n']]);
    assert.deepEqual(fire(r, NodeCreated, '/n'), [['p', NodeCreated, '/n']]);
    assert.deepEqual(fire(r, NodeDeleted, '/n'), [['p', NodeDeleted, '/n']]);
    assert.deepEqual(fire(r, NodeCreated, '/n/child'), []);
    assert.deepEqual(fire(r, NodeDataChanged, '/n/child'), []);
    assert.equal(r.hasWatches('p'), true);
  });

  it('recursive watches see Created, Deleted, DataChanged of deep descendants, never ChildrenChanged', () => {
    const r = new WatchRegistry<string>();
    r.addPersistentWatch('r', '/a', true);
    const deep = '/a/b/c/d/e/f';
    assert.deepEqual(fire(r, NodeCreated, deep), [['r', NodeCreated, deep]]);
    assert.deepEqual(fire(r, NodeDataChanged, deep), [['r', NodeDataChanged, deep]]);
    assert.deepEqual(fire(r, NodeDeleted, deep), [['r', NodeDeleted, deep]]);
    assert.deepEqual(fire(r, NodeChildrenChanged, '/a/b/c'), []);
    // on the watched path itself as well
    assert.deepEqual(fire(r, NodeDataChanged, '/a'), [['r', NodeDataChanged, '/a']]);
    assert.deepEqual(fire(r, NodeChildrenChanged, '/a'), []);
    // siblings and the parent are not covered
    assert.deepEqual(fire(r, NodeDataChanged, '/ab'), []);
    assert.deepEqual(fire(r, NodeDataChanged, '/'), []);
    assert.equal(r.recursiveWatchCount('data'), 1);
    assert.equal(r.recursiveWatchCount('child'), 1);
  });

  it('a recursive watch on / covers every path', () => {
    const r = new WatchRegistry<string>();
    r.addPersistentWatch('r', '/', true);
    assert.deepEqual(fire(r, NodeCreated, '/x'), [['r', NodeCreated, '/x']]);
    assert.deepEqual(fire(r, NodeDeleted, '/x/y/z'), [['r', NodeDeleted, '/x/y/z']]);
    assert.deepEqual(fire(r, NodeDataChanged, '/'), [['r', NodeDataChanged, '/']]);
  });

  it('each watcher gets at most one delivery per trigger', () => {
    const r = new WatchRegistry<string>();
    r.addPersistentWatch('w', '/', true);
    r.addPersistentWatch('w', '/a', true);
    r.addPersistentWatch('w', '/a/b', false);
    r.addDataWatch('w', '/a/b');
    r.addChildWatch('w', '/a/b');
    r.addDataWatch('other', '/a/b');
    assert.deepEqual(fire(r, NodeDeleted, '/a/b'), [
      ['w', NodeDeleted, '/a/b'],
      ['other', NodeDeleted, '/a/b'],
    ]);
    assert.deepEqual(fire(r, NodeDataChanged, '/a/b'), [['w', NodeDataChanged, '/a/b']]);
  });

  it('delivers in a deterministic order: one-shot, persistent, recursive nearest ancestor first', () => {
    const r = new WatchRegistry<string>();
    r.addPersistentWatch('root', '/', true);
    r.addPersistentWatch('parent', '/a', true);
    r.addPersistentWatch('self-rec', '/a/b', true);
    r.addPersistentWatch('self-p', '/a/b', false);
    r.addDataWatch('s2', '/a/b');
    r.addDataWatch('s1', '/a/b');
    r.addChildWatch('c', '/a/b');
    assert.deepEqual(
      fire(r, NodeDeleted, '/a/b').map(([w]) => w),
      ['s2', 's1', 'self-p', 'self-rec', 'parent', 'root', 'c'],
    );
  });

  it('a one-shot watch does not turn a persistent watch into a one-shot one', () => {
    const r = new WatchRegistry<string>();
    r.addPersistentWatch('w', '/n', false);
    r.addDataWatch('w', '/n');
    assert.equal(fire(r, NodeDataChanged, '/n').length, 1);
    assert.equal(fire(r, NodeDataChanged, '/n').length, 1);
    assert.equal(r.hasWatch('w', '/n', 'data', WatchMode.STANDARD), false);
    assert.equal(r.hasWatch('w', '/n', 'data', WatchMode.PERSISTENT), true);
  });

  it('re-registering the same watch is one watch', () => {
    const r = new WatchRegistry<string>();
    assert.equal(r.addDataWatch('w', '/n'), true);
    assert.equal(r.addDataWatch('w', '/n'), false);
    assert.equal(r.addChildWatch('w', '/n'), true);
    assert.equal(r.addPersistentWatch('p', '/n', true), true);
    assert.equal(r.addPersistentWatch('p', '/n', true), false);
    assert.equal(r.recursiveWatchCount(), 1);
    assert.equal(r.size(), 4); // (w,/n,data) (w,/n,child) (p,/n,data) (p,/n,child)
    assert.deepEqual(r.summary(), { watchers: 2, paths: 1, total: 2 });
    assert.equal(fire(r, NodeDataChanged, '/n').length, 2);
  });

  it('watches registered while delivering are kept and not fired by the same trigger', () => {
    const r = new WatchRegistry<string>();
    r.addDataWatch('w', '/n');
    const out: string[] = [];
    r.trigger({ type: NodeDataChanged, path: '/n' }, (w) => {
      out.push(w);
      r.addDataWatch(w, '/n');
    });
    assert.deepEqual(out, ['w']);
    assert.equal(r.hasWatch('w', '/n', 'data'), true);
    assert.equal(fire(r, NodeDataChanged, '/n').length, 1);
  });
});

describe('WatchRegistry: removeWatches / checkWatches', () => {
  function setup(): WatchRegistry<string> {
    const r = new WatchRegistry<string>();
    r.addDataWatch('w', '/d');
    r.addChildWatch('w', '/c');
    r.addDataWatch('w', '/both');
    r.addChildWatch('w', '/both');
    return r;
  }

  it('Data addresses the data table only', () => {
    const r = setup();
    assert.equal(r.removeWatches('w', '/c', WatcherType.Data, { dryRun: true }), false);
    assert.equal(r.removeWatches('w', '/d', WatcherType.Data, { dryRun: true }), true);
    assert.equal(r.hasWatch('w', '/d', 'data'), true, 'dry run keeps the watch');
    assert.equal(r.removeWatches('w', '/both', WatcherType.Data), true);
    assert.equal(r.hasWatch('w', '/both', 'data'), false);
    assert.equal(r.hasWatch('w', '/both', 'child'), true);
    assert.equal(r.removeWatches('w', '/both', WatcherType.Data), false);
  });

  it('Children addresses the child table only', () => {
    const r = setup();
    assert.equal(r.removeWatches('w', '/d', WatcherType.Children), false);
    assert.equal(r.removeWatches('w', '/c', WatcherType.Children, { dryRun: true }), true);
    assert.equal(r.removeWatches('w', '/c', WatcherType.Children), true);
    assert.equal(r.removeWatches('w', '/c', WatcherType.Children, { dryRun: true }), false);
    assert.equal(r.hasWatch('w', '/both', 'data'), true);
  });

  it('Any addresses both tables', () => {
    const r = setup();
    assert.equal(r.removeWatches('w', '/d', WatcherType.Any, { dryRun: true }), true);
    assert.equal(r.removeWatches('w', '/c', WatcherType.Any, { dryRun: true }), true);
    assert.equal(r.removeWatches('w', '/both', WatcherType.Any), true);
    assert.equal(r.hasWatch('w', '/both', 'data'), false);
    assert.equal(r.hasWatch('w', '/both', 'child'), false);
    assert.equal(r.removeWatches('w', '/both', WatcherType.Any), false);
  });

  it('NoWatcher cases: other watcher, other path, fired one-shot, unknown type', () => {
    const r = setup();
    assert.equal(r.removeWatches('other', '/d', WatcherType.Any, { dryRun: true }), false);
    assert.equal(r.removeWatches('other', '/d', WatcherType.Any), false);
    assert.equal(r.removeWatches('w', '/nope', WatcherType.Any), false);
    fire(r, NodeDataChanged, '/d');
    assert.equal(r.removeWatches('w', '/d', WatcherType.Data, { dryRun: true }), false);
    assert.equal(r.removeWatches('w', '/both', 7), false);
    assert.equal(r.hasWatch('w', '/both', 'data'), true);
  });

  it('persistent watches: Data removes the data half, the child half keeps firing', () => {
    const r = new WatchRegistry<string>();
    r.addPersistentWatch('p', '/n', false);
    assert.equal(r.removeWatches('p', '/n', WatcherType.Data), true);
    assert.deepEqual(fire(r, NodeDataChanged, '/n'), []);
    assert.deepEqual(fire(r, NodeChildrenChanged, '/n'), [['p', NodeChildrenChanged, '/n']]);
    assert.equal(r.removeWatches('p', '/n', WatcherType.Any), true);
    assert.equal(r.hasWatches('p'), false);
  });

  it('recursive watches: removing both halves stops the ancestor walk', () => {
    const r = new WatchRegistry<string>();
    r.addPersistentWatch('r', '/a', true);
    assert.equal(r.removeWatches('r', '/a', WatcherType.Data), true);
    assert.equal(r.recursiveWatchCount('data'), 0);
    assert.deepEqual(fire(r, NodeDataChanged, '/a/b'), []);
    // the child-table half still sees deletions below (3.8's two managers)
    assert.deepEqual(fire(r, NodeDeleted, '/a/b'), [['r', NodeDeleted, '/a/b']]);
    assert.equal(r.removeWatches('r', '/a', WatcherType.Children), true);
    assert.equal(r.recursiveWatchCount('child'), 0);
    assert.deepEqual(fire(r, NodeDeleted, '/a/b'), []);
  });
});

describe('WatchRegistry: removeWatcher', () => {
  it('drops every watch of one watcher and nothing else', () => {
    const r = new WatchRegistry<string>();
    r.addDataWatch('gone', '/a');
    r.addChildWatch('gone', '/a');
    r.addPersistentWatch('gone', '/b', true);
    r.addDataWatch('stay', '/a');
    r.removeWatcher('gone');
    assert.equal(r.hasWatches('gone'), false);
    assert.equal(r.recursiveWatchCount(), 0);
    assert.deepEqual(fire(r, NodeDeleted, '/a'), [['stay', NodeDeleted, '/a']]);
    assert.deepEqual(fire(r, NodeCreated, '/b/x'), []);
    r.removeWatcher('never-seen');
    assert.equal(r.size(), 0);
  });

  it('after a one-shot fired, removeWatcher still cleans up the rest', () => {
    const r = new WatchRegistry<string>();
    r.addDataWatch('w', '/a');
    r.addDataWatch('w', '/b');
    fire(r, NodeDataChanged, '/a');
    r.removeWatcher('w');
    assert.equal(r.size(), 0);
    assert.deepEqual(r.summary(), { watchers: 0, paths: 0, total: 0 });
  });
});

describe('WatchRegistry: setWatches catch-up (§9.6)', () => {
  const nodes = new Map<string, { mzxid: number; pzxid: number }>([
    ['/old', { mzxid: 5, pzxid: 5 }],
    ['/changed', { mzxid: 11, pzxid: 5 }],
    ['/kids', { mzxid: 5, pzxid: 12 }],
    ['/exact', { mzxid: 10, pzxid: 10 }],
  ]);
  const lookup = (path: string): { mzxid: number; pzxid: number } | undefined => nodes.get(path);

  function request(partial: Partial<SetWatchesRequest>): SetWatchesRequest {
    return {
      type: OpCode.setWatches2,
      relativeZxid: 10,
      dataWatches: [],
      existWatches: [],
      childWatches: [],
      persistentWatches: [],
      persistentRecursiveWatches: [],
      ...partial,
    };
  }

  function run(partial: Partial<SetWatchesRequest>): { r: WatchRegistry<string>; events: Array<[number, string]> } {
    const r = new WatchRegistry<string>();
    const events: Array<[number, string]> = [];
    r.setWatches('w', request(partial), lookup, (w, e) => {
      assert.equal(w, 'w');
      events.push([e.type, e.path]);
    });
    return { r, events };
  }

  it('dataWatches: missing → NodeDeleted, mzxid > rel → NodeDataChanged, else registered', () => {
    const { r, events } = run({ dataWatches: ['/gone', '/changed', '/old', '/exact', '/kids'] });
    assert.deepEqual(events, [
      [NodeDeleted, '/gone'],
      [NodeDataChanged, '/changed'],
    ]);
    assert.deepEqual(r.byWatcher().get('w'), ['/old', '/exact', '/kids']);
    assert.equal(r.size(), 3);
  });

  it('existWatches: present → NodeCreated, missing → registered in the data table', () => {
    const { r, events } = run({ existWatches: ['/old', '/gone'] });
    assert.deepEqual(events, [[NodeCreated, '/old']]);
    assert.equal(r.hasWatch('w', '/gone', 'data', WatchMode.STANDARD), true);
    assert.equal(r.hasWatch('w', '/old', 'data'), false);
    assert.deepEqual(fire(r, NodeCreated, '/gone'), [['w', NodeCreated, '/gone']]);
  });

  it('childWatches: missing → NodeDeleted, pzxid > rel → NodeChildrenChanged, else registered', () => {
    const { r, events } = run({ childWatches: ['/gone', '/kids', '/changed', '/exact'] });
    assert.deepEqual(events, [
      [NodeDeleted, '/gone'],
      [NodeChildrenChanged, '/kids'],
    ]);
    assert.deepEqual(r.byWatcher('child').get('w'), ['/changed', '/exact']);
    assert.equal(r.byWatcher('data').has('w'), false);
  });

  it('persistent and recursive lists register in both tables with no catch-up', () => {
    const { r, events } = run({ persistentWatches: ['/gone', '/changed'], persistentRecursiveWatches: ['/kids'] });
    assert.deepEqual(events, []);
    for (const table of ['data', 'child'] as const) {
      assert.equal(r.hasWatch('w', '/gone', table, WatchMode.PERSISTENT), true);
      assert.equal(r.hasWatch('w', '/changed', table, WatchMode.PERSISTENT), true);
      assert.equal(r.hasWatch('w', '/kids', table, WatchMode.PERSISTENT_RECURSIVE), true);
    }
    assert.deepEqual(fire(r, NodeCreated, '/kids/x/y'), [['w', NodeCreated, '/kids/x/y']]);
  });

  it('catches up in list order: data, exist, child', () => {
    const { events } = run({ dataWatches: ['/gone'], existWatches: ['/old'], childWatches: ['/kids'] });
    assert.deepEqual(events, [
      [NodeDeleted, '/gone'],
      [NodeCreated, '/old'],
      [NodeChildrenChanged, '/kids'],
    ]);
  });
});

describe('WatchRegistry: introspection', () => {
  it('summary, byWatcher and byPath describe the data table like wchs/wchc/wchp', () => {
    const r = new WatchRegistry<string>();
    r.addDataWatch('s1', '/a');
    r.addDataWatch('s1', '/b');
    r.addDataWatch('s2', '/a');
    r.addChildWatch('s3', '/c');
    r.addPersistentWatch('s4', '/a', false);
    r.addDataWatch('s4', '/a');
    assert.deepEqual(r.summary(), { watchers: 3, paths: 2, total: 4 });
    assert.deepEqual(r.summary('child'), { watchers: 2, paths: 2, total: 2 });
    assert.equal(r.size(), 6);
    assert.deepEqual(
      [...r.byWatcher()],
      [
        ['s1', ['/a', '/b']],
        ['s2', ['/a']],
        ['s4', ['/a']],
      ],
    );
    assert.deepEqual(
      [...r.byPath()],
      [
        ['/a', ['s1', 's2', 's4']],
        ['/b', ['s1']],
      ],
    );
    assert.deepEqual([...r.byPath('child')], [['/c', ['s3']], ['/a', ['s4']]]);
    fire(r, NodeDataChanged, '/a');
    assert.deepEqual(r.summary(), { watchers: 2, paths: 2, total: 2 });
    assert.deepEqual([...r.byWatcher()], [['s1', ['/b']], ['s4', ['/a']]]);
  });

  it('hasWatches follows one-shot firing across both tables', () => {
    const r = new WatchRegistry<string>();
    assert.equal(r.hasWatches('w'), false);
    r.addChildWatch('w', '/a');
    assert.equal(r.hasWatches('w'), true);
    fire(r, NodeChildrenChanged, '/a');
    assert.equal(r.hasWatches('w'), false);
  });

  it('watchers repeatedly re-arming one-shot watches on new paths keep an accurate view', () => {
    const r = new WatchRegistry<string>();
    for (let i = 0; i < 1000; i++) {
      r.addDataWatch('w', `/seq-${i}`);
      fire(r, NodeDeleted, `/seq-${i}`);
    }
    r.addDataWatch('w', '/live');
    assert.deepEqual(r.byWatcher().get('w'), ['/live']);
    assert.deepEqual(r.summary(), { watchers: 1, paths: 1, total: 1 });
    r.removeWatcher('w');
    assert.equal(r.hasWatches('w'), false);
  });

  it('clear drops everything', () => {
    const r = new WatchRegistry<string>();
    r.addPersistentWatch('w', '/', true);
    r.addDataWatch('x', '/a');
    r.clear();
    assert.equal(r.size(), 0);
    assert.equal(r.recursiveWatchCount(), 0);
    assert.deepEqual(fire(r, NodeCreated, '/a'), []);
  });

  it('works with object identities (connections)', () => {
    const a = { id: 1 };
    const b = { id: 1 };
    const r = new WatchRegistry<{ id: number }>();
    r.addDataWatch(a, '/n');
    r.addDataWatch(b, '/n');
    const got: Array<{ id: number }> = [];
    r.trigger({ type: NodeDataChanged, path: '/n' }, (w) => got.push(w));
    assert.equal(got.length, 2);
    assert.ok(got[0] === a && got[1] === b);
  });
});
