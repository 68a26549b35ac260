/**
 * Queue, counter, cache and discovery scenarios.
 */
import assert from 'node:assert/strict';
import { CreateMode } from '../../../../src/index.js';
import {
  DistributedPriorityQueue,
  DistributedQueue,
  GroupMember,
  NodeCache,
  ServiceDiscovery,
  SharedCounter,
  TreeCache,
  WaitTimeoutError,
  type CacheEvent,
} from '../../../../src/recipes/index.js';
import type { RecipeHarness } from '../harness.js';
import { childrenOf, eventually, mkdirp, within } from '../util.js';
import { localWatches, type Scenario } from './locks.js';

export const queueScenarios: Record<string, Scenario> = {
  async 'queue: FIFO order; concurrent consumers take each item exactly once; take waits and times out cleanly'(h: RecipeHarness) {
    const path = h.path('queue');
    const [producer, ...consumers] = await Promise.all(Array.from({ length: 5 }, () => h.client()));
    const queue = new DistributedQueue<number>(producer!, path);
    for (let i = 0; i < 20; i++) await queue.offer(i);
    assert.equal(await queue.size(), 20);
    assert.equal(await queue.peek(), 0);
    const inOrder: number[] = [];
    for (let i = 0; i < 10; i++) inOrder.push((await queue.poll())!);
    assert.deepEqual(inOrder, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Four consumers race for the rest, plus items offered while they wait.
    const taken: number[] = [];
    const takers = consumers.map(async (client) => {
      const q = new DistributedQueue<number>(client, path);
      for (;;) {
        try {
          taken.push(await q.take({ timeout: 500 }));
        } catch (error) {
          assert.ok(error instanceof WaitTimeoutError, 'error instanceof WaitTimeoutError');
          return;
        }
      }
    });
    for (let i = 20; i < 30; i++) await queue.offer(i);
    await within(Promise.all(takers), 20_000, 'consumers');
    assert.deepEqual([...taken].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 10));
    assert.equal(await queue.poll(), undefined);
    assert.equal(localWatches(consumers), 0);
    // A waiting take is served by the next offer.
    const waiting = new DistributedQueue<string>(consumers[0]!, path).take({ timeout: 10_000 });
    await eventually(() => assert.equal(consumers[0]!.session.watches.size, 1));
    await new DistributedQueue<string>(producer!, path).offer('late');
    assert.equal(await waiting, 'late');
    assert.deepEqual(await childrenOf(producer!, path), []);
  },

  async 'priority queue: lower priority first, FIFO within a priority'(h) {
    const path = h.path('pqueue');
    const client = await h.client();
    const queue = new DistributedPriorityQueue<string>(client, path);
    await queue.offer('low-1', 10);
    await queue.offer('urgent-1', -5);
    await queue.offer('normal-1', 0);
    await queue.offer('urgent-2', -5);
    await queue.offer('low-2', 10);
    const order: string[] = [];
    for (let i = 0; i < 5; i++) order.push(await queue.take({ timeout: 1000 }));
    assert.deepEqual(order, ['urgent-1', 'urgent-2', 'normal-1', 'low-1', 'low-2']);
  },

  async 'shared counter: versioned compare-and-set under contention loses no update'(h) {
    const path = h.path('counter');
    const clients = await Promise.all(Array.from({ length: 8 }, () => h.client()));
    const counters = clients.map((c) => new SharedCounter(c, path, 0));
    for (const c of counters) await c.start();
    await within(
      Promise.all(
        counters.map(async (counter) => {
          for (let i = 0; i < 15; i++) await counter.add(1);
        }),
      ),
      30_000,
      'increments',
    );
    await clients[0]!.sync(path);
    assert.equal((await counters[0]!.read()).value, 120);
    for (const c of counters) await eventually(() => assert.equal(c.count, 120));
    // A CAS against a stale version fails; against the current one it succeeds.
    const stale = { ...counters[0]!.versioned };
    assert.ok(await counters[1]!.trySetCount(counters[1]!.versioned, 500), 'await counters[1]!.trySetCount(counters[1]!.versioned, 500)');
    assert.equal(await counters[0]!.trySetCount(stale, 7), false);
    await eventually(() => assert.equal(counters[0]!.count, 500));
    // A disconnection is caught up after the reconnect.
    const heal = h.partition(clients[2]!);
    await counters[0]!.setCount(42);
    heal();
    await eventually(() => assert.equal(counters[2]!.count, 42));
    for (const c of counters) await c.close();
    assert.equal(localWatches(clients), 0);
  },
};

export const cacheScenarios: Record<string, Scenario> = {
  async 'tree cache: initial load event, then converges on creates, updates and deletes; resyncs after a disconnection'(h) {
    const root = h.path('tree');
    const [writer, reader] = [await h.client(), await h.client()];
    await mkdirp(writer, root);
    await writer.create(`${root}/a`, 'a0');
    await writer.create(`${root}/a/x`, 'x0');
    const cache = new TreeCache(reader, root);
    const events: CacheEvent[] = [];
    cache.on('change', (e) => events.push(e));
    const stream = cache.events();
    await cache.start();
    assert.ok(cache.initialized, 'cache.initialized');
    assert.deepEqual(events.filter((e) => e.type === 'initialized'), [{ type: 'initialized', size: 3 }]);
    assert.equal(cache.get(`${root}/a/x`)?.data?.toString(), 'x0');
    await writer.create(`${root}/b`, 'b0');
    await writer.setData(`${root}/a`, 'a1');
    await writer.delete(`${root}/a/x`);
    await writer.create(`${root}/b/e`, 'e', { mode: CreateMode.EPHEMERAL });
    await eventually(() => {
      assert.deepEqual([...cache.entries()].map((n) => n.path).sort(), [root, `${root}/a`, `${root}/b`, `${root}/b/e`]);
      assert.equal(cache.get(`${root}/a`)?.data?.toString(), 'a1');
    });
    assert.deepEqual(cache.children(root), ['a', 'b']);
    // Changes made while the reader is cut off are caught up after the reconnect.
    const heal = h.partition(reader);
    await writer.delete(`${root}/b/e`);
    await writer.setData(`${root}/b`, 'b1');
    heal();
    await eventually(() => {
      assert.equal(cache.get(`${root}/b/e`), undefined);
      assert.equal(cache.get(`${root}/b`)?.data?.toString(), 'b1');
    });
    const seen: string[] = [];
    for await (const event of stream) {
      if (event.type !== 'initialized') seen.push(`${event.type} ${event.node.path.slice(root.length)}`);
      if (seen.includes('updated /b')) break;
    }
    assert.ok(seen.includes('added /b') && seen.includes('removed /a/x') && seen.includes('updated /a'), seen.join(', '));
    await cache.close();
    assert.equal(reader.session.watches.size, 0);
  },

  async 'node cache: follows one node through creation, changes and deletion'(h) {
    const path = h.path('node');
    const [writer, reader] = [await h.client(), await h.client()];
    const cache = new NodeCache(reader, path);
    let initialized = 'not yet';
    cache.on('initialized', (node) => (initialized = node === undefined ? 'absent' : 'present'));
    await cache.start();
    assert.equal(initialized, 'absent');
    await mkdirp(writer, path.slice(0, path.lastIndexOf('/')));
    await writer.create(path, 'v1');
    await eventually(() => assert.equal(cache.current?.data?.toString(), 'v1'));
    await writer.setData(path, 'v2');
    await eventually(() => assert.equal(cache.current?.data?.toString(), 'v2'));
    await writer.delete(path);
    await eventually(() => assert.equal(cache.current, undefined));
    await cache.close();
    assert.equal(reader.session.watches.size, 0);
  },

  async 'service discovery: register, list and watch instances; an expired instance disappears'(h) {
    const base = h.path('services');
    const [a, b, observer] = [await h.client(), await h.client(), await h.client()];
    const discoveryA = new ServiceDiscovery<{ zone: string }>(a, base);
    const discoveryB = new ServiceDiscovery<{ zone: string }>(b, base);
    const view = new ServiceDiscovery<{ zone: string }>(observer, base);
    const cache = view.serviceCache('api');
    await cache.start();
    assert.deepEqual(cache.instances, []);
    await discoveryA.registerService({ name: 'api', id: 'api-1', address: '10.0.0.1', port: 80, payload: { zone: 'a' } });
    await discoveryB.registerService({ name: 'api', id: 'api-2', address: '10.0.0.2', port: 80, payload: { zone: 'b' } });
    await discoveryB.registerService({ name: 'worker', id: 'w-1' });
    await observer.sync(base); // the observer's server may lag behind the registrants'
    assert.deepEqual(await view.queryForNames(), ['api', 'worker']);
    assert.deepEqual((await view.queryForInstances('api')).map((i) => `${i.id}@${i.address}:${i.port}/${i.payload?.zone}`), ['api-1@10.0.0.1:80/a', 'api-2@10.0.0.2:80/b']);
    await eventually(() => assert.deepEqual(cache.instances.map((i) => i.id), ['api-1', 'api-2']));
    await discoveryA.updateService({ ...(await view.queryForInstance('api', 'api-1'))!, payload: { zone: 'c' } });
    await eventually(() => assert.equal(cache.instances.find((i) => i.id === 'api-1')?.payload?.zone, 'c'));
    // A brief disconnection keeps the registration.
    const heal = h.partition(a);
    heal();
    await eventually(() => assert.ok(discoveryA.registrationOf('api', 'api-1')?.registered, 'discoveryA.registrationOf(\'api\', \'api-1\')?.registered'));
    await h.expire(b);
    await eventually(() => assert.deepEqual(cache.instances.map((i) => i.id), ['api-1']));
    await discoveryA.close();
    await eventually(() => assert.deepEqual(cache.instances, []));
    await cache.close();
    assert.equal(localWatches([a, observer]), 0);
  },

  async 'group membership: members see each other join and leave'(h) {
    const path = h.path('group');
    const clients = await Promise.all([0, 1, 2].map(() => h.client()));
    const members = clients.map((c, i) => new GroupMember<{ slot: number }>(c, path, `m${i}`, { slot: i }));
    for (const m of members) await m.start();
    for (const m of members) await eventually(() => assert.deepEqual([...m.currentMembers().keys()], ['m0', 'm1', 'm2']));
    await members[1]!.setPayload({ slot: 9 });
    await eventually(() => assert.deepEqual(members[0]!.currentMembers().get('m1'), { slot: 9 }));
    await members[2]!.close();
    await eventually(() => assert.deepEqual([...members[0]!.currentMembers().keys()], ['m0', 'm1']));
    await members[0]!.close();
    await members[1]!.close();
    assert.equal(localWatches(clients), 0);
    assert.deepEqual(await childrenOf(clients[0]!, path), []);
  },
};
