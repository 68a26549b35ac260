/**
 * The client scenario suite: what zoostate's client must do against a real ZooKeeper
 * service. It is written against a `ScenarioTarget` (a connect string plus server
 * control) so the same scenarios run against Apache ZooKeeper 3.8 and against zoostate.
 *
 * Clients that must be cut off the network connect through `tcp-proxy.ts` proxies, so
 * the scenarios need nothing from the target but TCP addresses and kill/start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddWatchMode,
  BadArgumentsError,
  BadVersionError,
  ConnectionLossError,
  CreateMode,
  InvalidACLError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NoNodeError,
  NodeExistsError,
  NoWatcherError,
  NotEmptyError,
  Perms,
  SessionExpiredError,
  WatcherType,
  createClient,
  digestACL,
  isMultiError,
  AbortError,
  type ClientOptions,
  type ConnectionState,
  type WatchEvent,
  type ZooKeeperClient,
} from '../../../src/index.js';
import { startProxy, type TcpProxy } from './tcp-proxy.js';

/** A running service the scenarios can use. */
export interface ScenarioCluster {
  /** Every server's `host:port`, in order. */
  readonly servers: readonly string[];
  /** Kill one server abruptly (0-based). */
  kill(index: number): Promise<void>;
  /** Start a killed server again and wait until it serves. */
  start(index: number): Promise<void>;
  /** Stop everything. */
  close(): Promise<void>;
}

/** What the suite runs against. */
export interface ScenarioTarget {
  /** Suite name, e.g. `Apache ZooKeeper 3.8.0`. */
  name: string;
  /** A single server (most scenarios). */
  standalone(): Promise<ScenarioCluster>;
  /** Three voting servers (failover and partition scenarios). */
  ensemble(): Promise<ScenarioCluster>;
  /** TTL nodes are enabled on the server. */
  ttl: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry `check` until it stops throwing (or time runs out, then rethrow). */
async function eventually(check: () => Promise<void> | void, timeoutMs = 15_000, stepMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(stepMs);
    }
  }
}

/** Resolve when `client` emits `state` (rejects after `timeoutMs`). */
function nextState(client: ZooKeeperClient, state: ConnectionState, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(state, onState);
      reject(new Error(`no ${state} within ${timeoutMs} ms (state ${client.state})`));
    }, timeoutMs);
    const onState = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.once(state, onState);
  });
}

/** Collects watch events. */
function recorder() {
  const events: WatchEvent[] = [];
  const watcher = (event: WatchEvent): void => {
    events.push(event);
  };
  return { events, watcher, summary: () => events.map((e) => `${e.type} ${e.path}`) };
}

const parts = (address: string): { host: string; port: number } => {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
};

/** Register the whole suite with node:test. */
export function clientScenarios(target: ScenarioTarget): void {
  describe(`client scenarios against ${target.name}`, () => {
    let cluster: ScenarioCluster;
    const clients: ZooKeeperClient[] = [];
    const proxies: TcpProxy[] = [];
    let counter = 0;

    const open = async (options: ClientOptions & { via?: string[] } = {}): Promise<ZooKeeperClient> => {
      const { via, ...rest } = options;
      const client = createClient((via ?? cluster.servers).join(','), { sessionTimeout: 10_000, reconnectDelay: 50, spinDelay: 200, ...rest });
      client.on('error', () => {});
      clients.push(client);
      await client.waitUntilConnected();
      return client;
    };
    const proxyTo = async (servers: readonly string[]): Promise<TcpProxy[]> => {
      const started = await Promise.all(servers.map((s) => startProxy(parts(s).host, parts(s).port)));
      proxies.push(...started);
      return started;
    };
    /** A fresh root per test so scenarios never see each other's nodes. */
    const root = async (client: ZooKeeperClient): Promise<string> => {
      const path = `/scenario-${process.pid}-${++counter}`;
      await client.create(path);
      return path;
    };

    before(async () => {
      cluster = await target.standalone();
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await Promise.all(proxies.map((p) => p.close()));
      await cluster?.close();
    });

    test('create in every mode, with stats', async () => {
      const client = await open();
      const base = await root(client);
      assert.equal(await client.create(`${base}/p`, 'data'), `${base}/p`);
      const { path, stat } = await client.create(`${base}/p2`, 'abc', { stat: true });
      assert.equal(path, `${base}/p2`);
      assert.equal(stat.dataLength, 3);
      assert.equal(stat.version, 0);
      assert.equal(stat.ephemeralOwner, 0n);
      assert.equal(stat.czxid, stat.mzxid);
      assert.equal(stat.czxid, stat.pzxid);
      const eph = await client.create(`${base}/e`, null, { mode: CreateMode.EPHEMERAL, stat: true });
      assert.equal(eph.stat.ephemeralOwner, client.sessionId);
      // The suffix counts every create under the parent so far (§10.4).
      assert.equal(await client.create(`${base}/s-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL }), `${base}/s-0000000003`);
      assert.equal(await client.create(`${base}/s-`, null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL }), `${base}/s-0000000004`);
      const container = await client.create(`${base}/c`, null, { mode: CreateMode.CONTAINER });
      assert.equal(container, `${base}/c`);
      if (target.ttl) {
        const ttl = await client.create(`${base}/t-`, 'x', { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 60_000, stat: true });
        assert.equal(ttl.path, `${base}/t-0000000006`);
        assert.equal(ttl.stat.ephemeralOwner, 0n, 'TTL nodes report ephemeralOwner 0');
        await assert.rejects(client.create(`${base}/bad-ttl`, null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 0 }), BadArgumentsError);
      }
      const parent = await client.exists(base);
      assert.equal(parent!.numChildren, target.ttl ? 7 : 6);
      assert.equal(parent!.cversion, target.ttl ? 7 : 6);
      assert.deepEqual((await client.getEphemerals(base)).sort(), [`${base}/e`, `${base}/s-0000000004`]);
    });

    test('an emptied container and an expired TTL node are removed by the server', async () => {
      const client = await open();
      const base = await root(client);
      await client.create(`${base}/box`, null, { mode: CreateMode.CONTAINER });
      await client.create(`${base}/box/item`);
      const { events, watcher } = recorder();
      await client.exists(`${base}/box`, { watch: watcher });
      await client.delete(`${base}/box/item`);
      await eventually(() => assert.deepEqual(events.map((e) => e.type), ['NodeDeleted']), 30_000);
      if (target.ttl) {
        await client.create(`${base}/ttl`, null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 100 });
        await eventually(async () => assert.equal(await client.exists(`${base}/ttl`), null), 30_000, 50);
      }
    });

    test('reads and writes: getData, setData, exists, getChildren, delete, stats', async () => {
      const client = await open();
      const base = await root(client);
      await client.create(`${base}/a`, 'one');
      const first = await client.getData(`${base}/a`);
      assert.equal(first.data!.toString(), 'one');
      const stat = await client.setData(`${base}/a`, 'two', { version: 0 });
      assert.equal(stat.version, 1);
      assert.ok(stat.mzxid > first.stat.mzxid);
      assert.equal(stat.czxid, first.stat.czxid);
      assert.ok(stat.mtime >= first.stat.mtime);
      assert.deepEqual(await client.exists(`${base}/a`), stat);
      assert.equal(await client.exists(`${base}/none`), null);
      await client.create(`${base}/a/x`);
      await client.create(`${base}/a/y`);
      await client.delete(`${base}/a/x`);
      const children = await client.getChildren(`${base}/a`, { stat: true });
      assert.deepEqual(children.children, ['y']);
      assert.equal(children.stat.numChildren, 1);
      assert.equal(children.stat.cversion, 3, 'reported cversion = 2 × creates − numChildren');
      assert.deepEqual(await client.getChildren(`${base}/a`), ['y']);
      assert.equal(await client.getAllChildrenNumber(base), 2);
      await client.delete(`${base}/a/y`, { version: 0 });
      await client.delete(`${base}/a`);
      assert.equal(await client.exists(`${base}/a`), null);
      const withNull = await client.create(`${base}/null`, null, { stat: true });
      assert.equal(withNull.stat.dataLength, 0);
      const { data } = await client.getData(`${base}/null`);
      assert.ok(data === null || data.length === 0);
    });

    test('error codes come with the path', async () => {
      const client = await open();
      const base = await root(client);
      await client.create(`${base}/n`, 'x');
      await client.create(`${base}/n/child`);
      await client.create(`${base}/eph`, null, { mode: CreateMode.EPHEMERAL });
      const expect = async (promise: Promise<unknown>, Class: new (...args: never[]) => Error, code: number, path: string): Promise<void> => {
        await assert.rejects(promise, (e: unknown) => {
          assert.ok(e instanceof Class, `${String(e)} is not ${Class.name}`);
          assert.equal((e as unknown as { code: number }).code, code);
          assert.equal((e as unknown as { path: string }).path, path);
          return true;
        });
      };
      await expect(client.getData(`${base}/missing`), NoNodeError, -101, `${base}/missing`);
      await expect(client.create(`${base}/missing/x`), NoNodeError, -101, `${base}/missing/x`);
      await expect(client.create(`${base}/n`), NodeExistsError, -110, `${base}/n`);
      await expect(client.setData(`${base}/n`, 'y', { version: 5 }), BadVersionError, -103, `${base}/n`);
      await expect(client.delete(`${base}/n`), NotEmptyError, -111, `${base}/n`);
      await expect(client.delete(`${base}/n`, { version: 9 }), BadVersionError, -103, `${base}/n`);
      await expect(client.create(`${base}/eph/x`), NoChildrenForEphemeralsError, -108, `${base}/eph/x`);
      await expect(client.create(`${base}/noacl`, null, { acl: [] }), InvalidACLError, -114, `${base}/noacl`);
      await expect(client.delete('/zookeeper'), BadArgumentsError, -8, '/zookeeper');
      await expect(client.create('bad'), BadArgumentsError, -8, 'bad');
      await expect(client.removeWatches(`${base}/n`, WatcherType.Data), NoWatcherError, -121, `${base}/n`);
      await expect(client.setACL(`${base}/missing`, [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }]), NoNodeError, -101, `${base}/missing`);
    });

    test('multi: all or nothing, per-op errors on failure, and the transaction builder', async () => {
      const client = await open();
      const base = await root(client);
      const results = await client.multi([
        { type: 'create', path: `${base}/m`, data: 'a' },
        { type: 'create', path: `${base}/m/c`, mode: CreateMode.PERSISTENT_SEQUENTIAL },
        { type: 'setData', path: `${base}/m`, data: 'b', version: 0 },
        { type: 'check', path: `${base}/m`, version: 1 },
      ]);
      assert.deepEqual(
        results.map((r) => r.type),
        ['create', 'create', 'setData', 'check'],
      );
      assert.equal((results[1] as { path: string }).path, `${base}/m/c0000000000`);
      assert.equal((results[2] as { stat: { version: number } }).stat.version, 1);
      await assert.rejects(
        client.multi([
          { type: 'create', path: `${base}/gone` },
          { type: 'setData', path: `${base}/m`, data: 'c' },
          { type: 'check', path: `${base}/m`, version: 42 },
          { type: 'delete', path: `${base}/m/c0000000000` },
        ]),
        (e: unknown) => {
          assert.ok(isMultiError(e) && e instanceof BadVersionError);
          assert.equal(e.path, `${base}/m`);
          assert.equal(e.failedIndex, 2);
          assert.deepEqual(
            e.results.map((r) => (r.type === 'error' ? r.code : r.type)),
            [0, 0, -103, -2],
          );
          return true;
        },
      );
      assert.equal(await client.exists(`${base}/gone`), null, 'nothing of a failed multi is applied');
      assert.equal((await client.getData(`${base}/m`)).data!.toString(), 'b');
      const tx = await client.transaction().create(`${base}/t`, 'x').setData(`${base}/t`, 'y').delete(`${base}/m/c0000000000`).check(`${base}/m`, 1).commit();
      assert.equal(tx.length, 4);
      assert.deepEqual(await client.getChildren(`${base}/m`), []);
    });

    test('ACLs, digest auth and whoAmI', async () => {
      const owner = await open();
      const base = await root(owner);
      await owner.addAuth('digest', 'alice:secret');
      await owner.create(`${base}/private`, 'p', { acl: [digestACL(Perms.ALL, 'alice', 'secret')] });
      const { acl, stat } = await owner.getACL(`${base}/private`);
      assert.deepEqual(acl, [digestACL(Perms.ALL, 'alice', 'secret')]);
      assert.equal(stat.aversion, 0);
      const who = await owner.whoAmI();
      assert.ok(who.some((i) => i.authScheme === 'digest' && i.user === 'alice'));
      assert.ok(who.some((i) => i.authScheme === 'ip'));
      const stranger = await open();
      await assert.rejects(stranger.getData(`${base}/private`), (e: unknown) => e instanceof NoAuthError && e.path === `${base}/private`);
      await stranger.addAuth('digest', 'alice:secret');
      assert.equal((await stranger.getData(`${base}/private`)).data!.toString(), 'p');
      const after = await owner.setACL(`${base}/private`, [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }], { version: 0 });
      assert.equal(after.aversion, 1);
      await assert.rejects(owner.setACL(`${base}/private`, [], { version: 1 }), InvalidACLError);
      const creatorOnly = await owner.create(`${base}/mine`, null, { acl: [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }], stat: true });
      assert.ok(creatorOnly.stat);
    });

    test('sequential and ephemeral nodes; an ephemeral vanishes when its session closes and a watcher sees NodeDeleted', async () => {
      const owner = await open();
      const observer = await open();
      const base = await root(owner);
      const names = [];
      for (let i = 0; i < 3; i++) names.push(await owner.create(`${base}/q-`, null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL }));
      assert.deepEqual(names, [0, 1, 2].map((i) => `${base}/q-000000000${i}`));
      const { events, watcher } = recorder();
      assert.ok(await observer.exists(names[0]!, { watch: watcher }));
      const childWatch = recorder();
      await observer.getChildren(base, { watch: childWatch.watcher });
      await owner.close();
      assert.equal(owner.state, 'CLOSED');
      await eventually(() => assert.deepEqual(events.map((e) => e.type), ['NodeDeleted']));
      assert.deepEqual(await observer.getChildren(base), []);
      assert.deepEqual(childWatch.summary(), [`NodeChildrenChanged ${base}`], 'fired once');
    });

    test('one-shot watches fire exactly once, before the reply of the write that caused them', async () => {
      const client = await open();
      const base = await root(client);
      await client.create(`${base}/w`, 'a');
      const order: string[] = [];
      await client.getData(`${base}/w`, { watch: (e) => order.push(`data watch ${e.type}`) });
      await client.exists(`${base}/w`, { watch: (e) => order.push(`exists watch ${e.type}`) });
      await client.getChildren(`${base}/w`, { watch: (e) => order.push(`child watch ${e.type}`) });
      await client.exists(`${base}/new`, { watch: (e) => order.push(`created ${e.type}`) });
      await client.setData(`${base}/w`, 'b').then(() => order.push('setData reply'));
      await client.setData(`${base}/w`, 'c').then(() => order.push('second setData reply'));
      await client.create(`${base}/w/kid`).then(() => order.push('create reply'));
      await client.create(`${base}/new`).then(() => order.push('create new reply'));
      assert.deepEqual(order, [
        'data watch NodeDataChanged',
        'exists watch NodeDataChanged',
        'setData reply',
        'second setData reply',
        'child watch NodeChildrenChanged',
        'create reply',
        'created NodeCreated',
        'create new reply',
      ]);
    });

    test('persistent and persistent-recursive watches, as callbacks and async iterators; removeWatches', async () => {
      const client = await open();
      const other = await open();
      // The server keeps one watch mode per (connection, path): a plain persistent watch on
      // the same path as a recursive one needs its own session.
      const third = await open();
      const base = await root(client);
      const recursive = recorder();
      const persistent = recorder();
      await client.addWatch(base, AddWatchMode.PERSISTENT_RECURSIVE, recursive.watcher);
      await third.addWatch(base, AddWatchMode.PERSISTENT, persistent.watcher);
      const controller = new AbortController();
      const stream = client.watch(base, { recursive: true, signal: controller.signal });
      await stream.ready;
      await other.create(`${base}/a`);
      await other.create(`${base}/a/b`, 'x');
      await other.setData(`${base}/a/b`, 'y');
      await other.delete(`${base}/a/b`);
      await other.setData(base, 'z');
      await client.sync(base);
      await third.sync(base);
      const expected = [`NodeCreated ${base}/a`, `NodeCreated ${base}/a/b`, `NodeDataChanged ${base}/a/b`, `NodeDeleted ${base}/a/b`, `NodeDataChanged ${base}`];
      await eventually(() => assert.deepEqual(recursive.summary(), expected));
      assert.deepEqual(persistent.summary(), [`NodeChildrenChanged ${base}`, `NodeDataChanged ${base}`]);
      const seen: string[] = [];
      for await (const event of stream) {
        seen.push(`${event.type} ${event.path}`);
        if (seen.length === expected.length) break;
      }
      assert.deepEqual(seen, expected);
      await third.removeWatches(base, WatcherType.Any, { watcher: persistent.watcher });
      assert.deepEqual(persistent.summary().at(-1), `PersistentWatchRemoved ${base}`);
      await client.removeWatches(base, WatcherType.Any);
      assert.deepEqual(recursive.summary().at(-1), `PersistentWatchRemoved ${base}`);
      await other.create(`${base}/after`);
      await client.sync(base);
      await sleep(100);
      assert.equal(recursive.events.length, expected.length + 1, 'no events after removal');
      // A one-shot watch removed before it fired.
      const oneShot = recorder();
      await client.getData(base, { watch: oneShot.watcher });
      await client.removeWatches(base, WatcherType.Data);
      assert.deepEqual(oneShot.summary(), [`DataWatchRemoved ${base}`]);
    });

    test('FIFO: pipelined writes and reads complete in issue order; read-your-writes', async () => {
      const client = await open();
      const base = await root(client);
      const order: number[] = [];
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) {
        const op: Promise<unknown> =
          i % 3 === 0
            ? client.create(`${base}/n${i}`, String(i))
            : i % 3 === 1
              ? client.getData(`${base}/n${i - 1}`)
              : client.setData(`${base}/n${i - 2}`, `v${i}`);
        ops.push(op.then((result) => (order.push(i), result)));
      }
      const results = await Promise.all(ops);
      assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => i));
      for (let i = 1; i < 200; i += 3) {
        assert.equal((results[i] as { data: Buffer }).data.toString(), String(i - 1), 'each read sees the write issued before it');
      }
      assert.equal((await client.getData(`${base}/n0`)).data!.toString(), 'v2');
    });

    test('sync, then a read on another session sees the write', async () => {
      const writer = await open();
      const reader = await open();
      const base = await root(writer);
      await writer.setData(base, 'fresh');
      await reader.sync(base);
      assert.equal((await reader.getData(base)).data!.toString(), 'fresh');
    });

    test('an aborted call rejects at once and leaves the session usable', async () => {
      const client = await open();
      const base = await root(client);
      const controller = new AbortController();
      const slow = client.getChildren(base, { signal: controller.signal });
      controller.abort();
      await assert.rejects(slow, AbortError);
      await assert.rejects(client.exists(base, { signal: AbortSignal.abort() }), AbortError);
      const many = Array.from({ length: 20 }, (_, i) => {
        const c = new AbortController();
        const p = client.create(`${base}/x${i}`, null, { signal: c.signal });
        if (i % 2 === 0) c.abort();
        return p.then(
          () => 'ok',
          (e: unknown) => (e instanceof AbortError ? 'aborted' : 'other'),
        );
      });
      const outcomes = await Promise.all(many);
      assert.ok(outcomes.every((o) => o !== 'other'));
      assert.equal(client.state, 'CONNECTED');
      await client.setData(base, 'still fine');
      const children = await client.getChildren(base);
      // Aborted creates may or may not have been applied; the session stays consistent.
      for (let i = 1; i < 20; i += 2) assert.ok(children.includes(`x${i}`));
    });

    test('the protected-sequential helper creates one node even when the reply is lost', async () => {
      const [proxy] = await proxyTo([cluster.servers[0]!]);
      const client = await open({ via: [proxy!.address] });
      const base = await root(client);
      const plain = await client.createProtectedSequential(`${base}/lock-`);
      assert.match(plain, new RegExp(`^${base}/_c_[0-9a-f-]{36}-lock-0000000000$`));
      proxy!.cutAfterNextRequest();
      const recovered = await client.createProtectedSequential(`${base}/lock-`);
      const children = await client.getChildren(base);
      const id = /_c_([0-9a-f-]{36})-/.exec(recovered)![1]!;
      assert.equal(children.filter((c) => c.includes(id)).length, 1, 'exactly one node for this protection id');
      assert.ok(children.includes(recovered.slice(base.length + 1)));
      assert.equal((await client.exists(recovered))!.ephemeralOwner, client.sessionId);
    });

    test('an interrupted write is reported as ConnectionLoss and the client reconnects with its session', async () => {
      const [proxy] = await proxyTo([cluster.servers[0]!]);
      const client = await open({ via: [proxy!.address] });
      const states: ConnectionState[] = [];
      client.on('state', (s) => states.push(s));
      const base = await root(client);
      const session = client.sessionId;
      proxy!.cutAfterNextRequest();
      await assert.rejects(client.create(`${base}/maybe`), (e: unknown) => e instanceof ConnectionLossError && e.path === `${base}/maybe`);
      await client.waitUntilConnected();
      assert.equal(client.sessionId, session);
      assert.deepEqual(states, ['SUSPENDED', 'RECONNECTED']);
      assert.ok(await client.exists(`${base}/maybe`), 'the write reached the server before the cut');
    });

    test('an ephemeral vanishes when its session expires; the client learns EXPIRED; a new session works', async () => {
      const [proxy] = await proxyTo([cluster.servers[0]!]);
      const client = await open({ via: [proxy!.address], sessionTimeout: 2000 });
      const observer = await open();
      const base = await root(observer);
      const states: ConnectionState[] = [];
      client.on('state', (s) => states.push(s));
      await client.create(`${base}/e`, null, { mode: CreateMode.EPHEMERAL });
      const clientWatch = recorder();
      await client.getData(`${base}/e`, { watch: clientWatch.watcher });
      const iterator = client.watch(base);
      await iterator.ready;
      const { events, watcher } = recorder();
      await observer.exists(`${base}/e`, { watch: watcher });
      proxy!.partition();
      await eventually(() => assert.deepEqual(events.map((e) => e.type), ['NodeDeleted']), 30_000);
      await eventually(() => assert.deepEqual(states, ['SUSPENDED', 'LOST']), 30_000);
      proxy!.heal();
      await nextState(client, 'EXPIRED');
      assert.equal(client.state, 'EXPIRED');
      assert.deepEqual(states, ['SUSPENDED', 'LOST', 'EXPIRED']);
      assert.deepEqual(clientWatch.events, [{ type: 'None', state: 'Expired', path: `${base}/e` }], 'the watch is not dropped silently');
      await assert.rejects(iterator.next(), SessionExpiredError);
      await assert.rejects(client.getData(base), SessionExpiredError);
      const fresh = await open({ via: [proxy!.address] });
      assert.notEqual(fresh.sessionId, client.sessionId);
      assert.equal(await fresh.exists(`${base}/e`), null);
      await fresh.create(`${base}/e`, null, { mode: CreateMode.EPHEMERAL });
    });

    describe('three-server ensemble', () => {
      let ensemble: ScenarioCluster;
      before(async () => {
        ensemble = await target.ensemble();
      });
      after(async () => {
        await ensemble?.close();
      });

      test('a client whose server dies moves to another, keeps its session and ephemerals, and its watches catch up', async () => {
        const viaProxies = await proxyTo(ensemble.servers);
        const client = await open({ via: viaProxies.map((p) => p.address), sessionTimeout: 15_000 });
        const states: ConnectionState[] = [];
        client.on('state', (s) => states.push(s));
        const session = client.sessionId;
        const base = await root(client);
        await client.create(`${base}/parent`);
        await client.create(`${base}/watched`, 'v0');
        const eph = await client.create(`${base}/eph`, null, { mode: CreateMode.EPHEMERAL });
        const { events, watcher, summary } = recorder();
        await client.getData(`${base}/watched`, { watch: watcher });
        await client.exists(`${base}/new`, { watch: watcher });
        await client.getChildren(`${base}/parent`, { watch: watcher });
        const recursive = recorder();
        await client.addWatch(`${base}/parent`, AddWatchMode.PERSISTENT_RECURSIVE, recursive.watcher);

        const proxyIndex = viaProxies.findIndex((p) => p.address === client.currentServer);
        assert.ok(proxyIndex >= 0);
        // Keep the client away while the ensemble changes without it.
        for (const p of viaProxies) p.partition();
        await ensemble.kill(proxyIndex);
        const survivors = ensemble.servers.filter((_, i) => i !== proxyIndex);
        const other = await open({ via: [...survivors], sessionTimeout: 15_000 });
        await eventually(async () => {
          await other.setData(`${base}/watched`, 'v1');
        });
        await other.create(`${base}/new`);
        await other.create(`${base}/parent/child`);
        // Requests made now are in flight on the frozen connection: they fail with ConnectionLoss.
        const inFlight = client.exists(`${base}/new`).then(
          () => 'answered',
          (e: unknown) => (e instanceof ConnectionLossError ? 'lost' : String(e)),
        );
        const back = nextState(client, 'RECONNECTED');
        for (const p of viaProxies) p.heal();
        await back;
        assert.equal(await inFlight, 'lost');
        assert.equal(client.sessionId, session, 'same session');
        assert.deepEqual(states, ['SUSPENDED', 'RECONNECTED']);
        assert.notEqual(client.currentServer, viaProxies[proxyIndex]!.address);
        await eventually(() =>
          assert.deepEqual(summary().sort(), [`NodeChildrenChanged ${base}/parent`, `NodeCreated ${base}/new`, `NodeDataChanged ${base}/watched`]),
        );
        assert.equal(events.length, 3, 'each one-shot watch fired once');
        assert.equal((await client.exists(eph))!.ephemeralOwner, session, 'the ephemeral survived');
        await other.create(`${base}/parent/child/deeper`);
        await eventually(() => assert.deepEqual(recursive.summary(), [`NodeCreated ${base}/parent/child/deeper`]), 10_000);
        await ensemble.start(proxyIndex);
      });

      test('a client partitioned longer than its session timeout gets EXPIRED; its ephemerals are gone', async () => {
        const viaProxies = await proxyTo(ensemble.servers);
        const client = await open({ via: viaProxies.map((p) => p.address), sessionTimeout: 2000 });
        const observer = await open({ via: [...ensemble.servers], sessionTimeout: 15_000 });
        const base = await root(observer);
        const states: ConnectionState[] = [];
        client.on('state', (s) => states.push(s));
        await client.sync(base); // the client's server may not have applied the create yet
        await client.create(`${base}/e`, null, { mode: CreateMode.EPHEMERAL });
        for (const p of viaProxies) p.partition();
        await eventually(async () => assert.equal(await observer.exists(`${base}/e`), null), 30_000);
        await eventually(() => assert.deepEqual(states, ['SUSPENDED', 'LOST']), 30_000);
        for (const p of viaProxies) p.heal();
        await nextState(client, 'EXPIRED');
        assert.deepEqual(states, ['SUSPENDED', 'LOST', 'EXPIRED']);
        const fresh = await open({ via: viaProxies.map((p) => p.address) });
        assert.deepEqual(await fresh.getChildren(base), []);
        await fresh.create(`${base}/e`, null, { mode: CreateMode.EPHEMERAL });
      });
    });
  });
}
