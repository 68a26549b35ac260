import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchManager } from '../../../src/client/watch-manager.js';
import type { Watcher } from '../../../src/client/types.js';
import { EventType, WatcherType } from '../../../src/protocol/constants.js';

function named(name: string): Watcher & { label: string } {
  const w = (() => {}) as unknown as Watcher & { label: string };
  w.label = name;
  return w;
}

function labels(set: Set<Watcher>): string[] {
  return [...set].map((w) => (w as unknown as { label: string }).label).sort();
}

function fixture() {
  const m = new WatchManager();
  const w = {
    data: named('data'),
    exist: named('exist'),
    child: named('child'),
    persistent: named('persistent'),
    recursiveSelf: named('recursiveSelf'),
    recursiveRoot: named('recursiveRoot'),
    other: named('other'),
  };
  m.add('data', '/a/b', w.data);
  m.add('exist', '/a/b', w.exist);
  m.add('child', '/a/b', w.child);
  m.add('persistent', '/a/b', w.persistent);
  m.add('recursive', '/a/b', w.recursiveSelf);
  m.add('recursive', '/', w.recursiveRoot);
  m.add('data', '/other', w.other);
  return { m, w };
}

test('NodeCreated and NodeDataChanged fire data and exist watchers once, persistent and recursive always', () => {
  for (const type of [EventType.NodeCreated, EventType.NodeDataChanged]) {
    const { m } = fixture();
    assert.deepEqual(labels(m.materialize(type, '/a/b')), ['data', 'exist', 'persistent', 'recursiveRoot', 'recursiveSelf']);
    assert.deepEqual(labels(m.materialize(type, '/a/b')), ['persistent', 'recursiveRoot', 'recursiveSelf'], 'one-shot watchers are gone');
  }
});

test('NodeChildrenChanged fires child watchers and persistent ones, never recursive ones', () => {
  const { m } = fixture();
  assert.deepEqual(labels(m.materialize(EventType.NodeChildrenChanged, '/a/b')), ['child', 'persistent']);
  assert.deepEqual(labels(m.materialize(EventType.NodeChildrenChanged, '/a/b')), ['persistent']);
});

test('NodeDeleted fires data, exist and child watchers', () => {
  const { m } = fixture();
  assert.deepEqual(labels(m.materialize(EventType.NodeDeleted, '/a/b')), ['child', 'data', 'exist', 'persistent', 'recursiveRoot', 'recursiveSelf']);
  assert.deepEqual(m.lists(), { data: ['/other'], exist: [], child: [], persistent: ['/a/b'], recursive: ['/a/b', '/'] });
});

test('recursive watchers see descendants; persistent ones only their own path', () => {
  const { m } = fixture();
  assert.deepEqual(labels(m.materialize(EventType.NodeDataChanged, '/a/b/c/d')), ['recursiveRoot', 'recursiveSelf']);
  assert.deepEqual(labels(m.materialize(EventType.NodeCreated, '/x')), ['recursiveRoot']);
  assert.deepEqual(labels(m.materialize(EventType.NodeDataChanged, '/other')), ['other', 'recursiveRoot']);
  assert.equal(m.materialize(99, '/a/b').size, 0, 'an unknown type fires nothing');
});

test('the same function registered twice fires once per event', () => {
  const m = new WatchManager();
  const w = named('w');
  m.add('data', '/p', w);
  m.add('exist', '/p', w);
  m.add('persistent', '/p', w);
  assert.equal(m.materialize(EventType.NodeDataChanged, '/p').size, 1);
  assert.equal(m.size, 1, 'the persistent registration stays');
});

test('remove follows removeWatches types and reports the local events', () => {
  const { m, w } = fixture();
  assert.deepEqual(
    m.remove('/a/b', WatcherType.Children).map((r) => [(r.watcher as unknown as { label: string }).label, r.type]),
    [['child', 'ChildWatchRemoved']],
  );
  assert.deepEqual(
    m.remove('/a/b', WatcherType.Data).map((r) => [(r.watcher as unknown as { label: string }).label, r.type]),
    [
      ['data', 'DataWatchRemoved'],
      ['exist', 'DataWatchRemoved'],
    ],
  );
  assert.ok(m.contains('/a/b', WatcherType.Data), 'Data still finds the persistent watchers (as Java)');
  assert.deepEqual(m.remove('/a/b', WatcherType.Data), [], 'but Data does not remove them');
  assert.deepEqual(
    m.remove('/a/b', WatcherType.Any, w.persistent).map((r) => r.type),
    ['PersistentWatchRemoved'],
  );
  assert.ok(m.onlyWatcherOn('/a/b', w.recursiveSelf));
  assert.ok(!m.onlyWatcherOn('/a/b', w.persistent));
  assert.deepEqual(m.remove('/a/b', WatcherType.Any).map((r) => r.type), ['PersistentWatchRemoved']);
  assert.ok(!m.contains('/a/b', WatcherType.Any));
  assert.ok(m.contains('/other', WatcherType.Data, w.other));
  assert.ok(!m.contains('/other', WatcherType.Data, w.data));
  assert.ok(!m.contains('/other', WatcherType.Children));
});

test('clear hands every watcher over once with a path it watched', () => {
  const { m, w } = fixture();
  const all = m.clear();
  assert.equal(all.size, 7);
  assert.equal(all.get(w.other), '/other');
  assert.equal(all.get(w.recursiveRoot), '/');
  assert.ok(m.isEmpty);
  assert.equal(m.size, 0);
});
