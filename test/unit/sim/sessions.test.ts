/**
 * Session-level simulation: real ZooKeeperClients over the in-process channel, with
 * watches, expiry and client faults. Their seeds pass, replay exactly, and the watch
 * checkers catch a server whose watch registry fires a watch twice or drops one, and
 * (at the client API) every kind of wrong watcher call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType } from '../../../src/protocol/constants.js';
import { ObservedConnection } from '../../../src/sim/connections.js';
import { runSeed, type SeedResult } from '../../../src/sim/simulator.js';
import { WatchChecker } from '../../../src/sim/watch-checker.js';
import { DoubleFiringRegistry, DroppingRegistry, withRegistry } from './broken-variants.js';

function failures(result: SeedResult): string {
  return result.failures.map((f) => `${f.checker}: ${f.message}`).join('; ');
}

test('client workload: seeds 1..50 pass every checker (sessions, watches, expiry, client crashes and cuts)', async () => {
  const failed: string[] = [];
  let watcherCalls = 0;
  let notifications = 0;
  let sessions = 0;
  let cuts = 0;
  let crashes = 0;
  let operations = 0;
  for (let seed = 1; seed <= 50; seed++) {
    const result = await runSeed(seed, { workload: 'clients' });
    const s = result.stats.sessions;
    watcherCalls += s.watcherCalls;
    notifications += s.notifications;
    sessions += s.sessions;
    cuts += s.clientFaults.cuts;
    crashes += s.clientFaults.crashes;
    operations += result.stats.operations;
    if (!result.ok) failed.push(`seed ${seed}: ${failures(result)} (replay: npm run sim -- --seed ${seed} --workload clients --trace)`);
  }
  assert.deepEqual(failed, []);
  // The slice exercises what it claims to.
  assert.ok(operations > 50 * 100, `only ${operations} operations`);
  assert.ok(watcherCalls > 500 && notifications > 500, `${watcherCalls} watcher calls, ${notifications} notifications`);
  assert.ok(sessions > 50 * 4, `only ${sessions} sessions`);
  assert.ok(cuts > 25 && crashes > 15, `${cuts} cuts, ${crashes} crashes`);
});

test('a client cut off when the faults stop reconnects before its watches are judged (seed 7166 judged a partitioned client)', async () => {
  const result = await runSeed(7166, { servers: 5, observers: 1, faults: 'chaos', trace: true });
  // The seed still does what made it fail: a client cut off shortly before the end.
  assert.ok(result.trace.some((l) => /nem +end 1 client cut/.test(l)), 'no cut was ended by the heal');
  assert.equal(result.ok, true, failures(result));
});

test('client workload: the same seed twice gives the identical trace and history', async () => {
  const options = { workload: 'clients' as const, faults: 'heavy' as const, ops: 150 };
  const a = await runSeed(13, { ...options, trace: true });
  const b = await runSeed(13, { ...options, trace: true });
  // The seed exercises what it claims to, else the comparison proves little.
  const { nemesis, sessions } = a.stats;
  assert.ok(nemesis.crashes > 0 && nemesis.partitions > 0 && sessions.clientFaults.cuts > 0 && sessions.watcherCalls > 20, JSON.stringify({ nemesis, sessions }));
  assert.ok(a.trace.length > 300, `only ${a.trace.length} trace lines`);
  assert.equal(a.traceDigest, b.traceDigest);
  assert.deepEqual(a.trace, b.trace);
  assert.equal(a.historyDigest, b.historyDigest);
  assert.equal(a.ok, true, failures(a));
  const quiet = await runSeed(13, options);
  assert.equal(quiet.historyDigest, a.historyDigest);
});

test('a server watch registry that fires a one-shot watch twice is caught (watches) within 3 seeds', async () => {
  let caught: SeedResult | undefined;
  for (let seed = 1; seed <= 3 && caught === undefined; seed++) {
    const result = await runSeed(seed, { workload: 'clients', linearizability: false, variant: { clientService: withRegistry(() => new DoubleFiringRegistry()) } });
    if (!result.ok) caught = result;
  }
  assert.ok(caught, 'the double-firing registry survived 3 seeds');
  assert.ok(caught.failures.some((f) => f.checker === 'watches' && /2 time\(s\), its watches call for 1/.test(f.message)), failures(caught));
});

test('a server watch registry that drops a delivery is caught (watches) within 3 seeds', async () => {
  let caught: SeedResult | undefined;
  for (let seed = 1; seed <= 3 && caught === undefined; seed++) {
    const result = await runSeed(seed, { workload: 'clients', linearizability: false, variant: { clientService: withRegistry(() => new DroppingRegistry()) } });
    if (!result.ok) caught = result;
  }
  assert.ok(caught, 'the dropping registry survived 3 seeds');
  assert.ok(caught.failures.some((f) => f.checker === 'watches' && /never reached/.test(f.message)), failures(caught));
});

/** A checker fed by hand: `notify` calls a watcher as if notification (zxid) were being dispatched. */
function handChecker() {
  const messages: string[] = [];
  let current: { zxid: number | null; connection: ObservedConnection } | undefined;
  const checker = new WatchChecker((m) => messages.push(m), () => current);
  const c1 = new ObservedConnection(1, 1);
  const c2 = new ObservedConnection(2, 2);
  const notify = (fn: (e: never) => void, connection: ObservedConnection, zxid: number | null, type: string, path: string): void => {
    current = { zxid, connection };
    try {
      (fn as (e: { type: string; state: string; path: string }) => void)({ type, state: 'SyncConnected', path });
    } finally {
      current = undefined;
    }
  };
  return { messages, checker, c1, c2, notify };
}

test('watch checker (client API): an honest history passes', () => {
  const { messages, checker, c1, c2, notify } = handChecker();
  checker.logged(10, [{ type: EventType.NodeDataChanged, path: '/a' }]);
  checker.logged(12, [{ type: EventType.NodeCreated, path: '/a/x' }, { type: EventType.NodeChildrenChanged, path: '/a' }]);
  const data = checker.register('c1', 'data', '/a');
  Object.assign(data, { registered: true, zxid: 5, connection: c1 });
  notify(checker.watcher(data), c1, 10, 'NodeDataChanged', '/a');
  const child = checker.register('c1', 'child', '/a');
  Object.assign(child, { registered: true, zxid: 11, connection: c1 });
  // After a reconnect the server sends the catch-up (pzxid moved after 11).
  notify(checker.watcher(child), c2, null, 'NodeChildrenChanged', '/a');
  const recursive = checker.register('c1', 'recursive', '/');
  Object.assign(recursive, { registered: true, zxid: 9, connection: c1 });
  notify(checker.watcher(recursive), c1, 10, 'NodeDataChanged', '/a');
  notify(checker.watcher(recursive), c1, 12, 'NodeCreated', '/a/x');
  checker.checkConnected('c1', c1, 12);
  assert.deepEqual(messages, []);
});

test('watch checker (client API): a one-shot watch called twice, stale, late or for an event it does not cover is caught', () => {
  const { messages, checker, c1, notify } = handChecker();
  checker.logged(10, [{ type: EventType.NodeDataChanged, path: '/a' }]);
  checker.logged(20, [{ type: EventType.NodeDataChanged, path: '/a' }]);
  const twice = checker.register('c1', 'data', '/a');
  Object.assign(twice, { registered: true, zxid: 5, connection: c1 });
  notify(checker.watcher(twice), c1, 10, 'NodeDataChanged', '/a');
  notify(checker.watcher(twice), c1, 20, 'NodeDataChanged', '/a');
  const stale = checker.register('c1', 'data', '/a');
  Object.assign(stale, { registered: true, zxid: 10, connection: c1 });
  notify(checker.watcher(stale), c1, 10, 'NodeDataChanged', '/a');
  const late = checker.register('c1', 'data', '/a');
  Object.assign(late, { registered: true, zxid: 5, connection: c1 });
  notify(checker.watcher(late), c1, 20, 'NodeDataChanged', '/a');
  const wrongKind = checker.register('c1', 'child', '/a');
  Object.assign(wrongKind, { registered: true, zxid: 5, connection: c1 });
  notify(checker.watcher(wrongKind), c1, 10, 'NodeDataChanged', '/a');
  assert.equal(messages.length, 4, messages.join('\n'));
  assert.match(messages[0]!, /fired a second time/);
  assert.match(messages[1]!, /not after its registration/);
  assert.match(messages[2]!, /not for the first matching change after its registration \(it was NodeDataChanged at 0:10\)/);
  assert.match(messages[3]!, /which a child watch does not cover/);
});

test('watch checker (client API): a missed event, a watch lost in a reconnect and an ended session’s silent watch are caught', () => {
  const { messages, checker, c1, c2 } = handChecker();
  checker.logged(10, [{ type: EventType.NodeDeleted, path: '/gone' }]);
  const missed = checker.register('c1', 'data', '/gone');
  Object.assign(missed, { registered: true, zxid: 5, connection: c1 });
  checker.checkConnected('c1', c1, 10);
  const lost = checker.register('c2', 'child', '/k');
  Object.assign(lost, { registered: true, zxid: 5, connection: c1 });
  checker.checkConnected('c2', c2, 10); // c2's connection holds no child watch on /k
  const silent = checker.register('c3', 'exist', '/x');
  Object.assign(silent, { registered: true, zxid: 5, connection: c1 });
  checker.checkEnded('c3', 'expired');
  assert.equal(messages.length, 3, messages.join('\n'));
  assert.match(messages[0]!, /never fired, though NodeDeleted at 0:10 is applied/);
  assert.match(messages[1]!, /does not hold it after the reconnect/);
  assert.match(messages[2]!, /neither fired nor told that its session ended/);
});
