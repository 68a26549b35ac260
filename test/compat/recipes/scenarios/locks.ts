/**
 * Lock, read-write lock and semaphore scenarios.
 */
import assert from 'node:assert/strict';
import { ZooKeeperError, type ZooKeeperClient } from '../../../../src/index.js';
import { Lock, ReadWriteLock, RoleLostError, Semaphore, WaitTimeoutError, type Lease } from '../../../../src/recipes/index.js';
import { seededRandom } from '../../../../src/runtime/random.js';
import type { RecipeHarness } from '../harness.js';
import { RoleHistory, childrenOf, eventually, sleep, stillPending, within } from '../util.js';

/** One scenario: runs against a harness, throws on failure. */
export type Scenario = (h: RecipeHarness) => Promise<void>;

/** Sum of client-side watch registrations. */
export function localWatches(clients: readonly ZooKeeperClient[]): number {
  return clients.reduce((n, c) => n + c.session.watches.size, 0);
}

/** Nothing left: no children under `path`, no local watches, and (if known) none on the server. */
export async function assertClean(h: RecipeHarness, client: ZooKeeperClient, path: string, clients: readonly ZooKeeperClient[]): Promise<void> {
  assert.deepEqual(await childrenOf(client, path), [], `nodes left under ${path}`);
  assert.equal(localWatches(clients), 0, 'client-side watches left');
  await eventually(async () => {
    const onServer = await h.serverWatches();
    if (onServer !== undefined) assert.equal(onServer, 0, 'server-side watches left');
  }, 3000);
}

export const lockScenarios: Record<string, Scenario> = {
  async 'mutual exclusion: 20 contenders, random holds, session expiries; never two holders; every waiter acquires or is told why'(h) {
    const path = h.path('mutex');
    const random = seededRandom(20240601);
    const history = new RoleHistory();
    const outcomes = { acquired: 0, refused: 0, expiredHolders: 0 };
    const waiting = new Map<string, ZooKeeperClient>();
    let holderExpiries = 3;
    let waiterExpiries = 3;
    let done = false;

    const contender = async (i: number): Promise<void> => {
      let client = await h.client();
      for (let round = 0; round < 3; round++) {
        const party = `c${i}.${round}`;
        const lock = new Lock(client, path, { name: party, data: party });
        let lease: Lease;
        waiting.set(party, client);
        try {
          lease = await lock.acquire({ timeout: 60_000 });
        } catch (error) {
          // Told why: its session was lost while it waited.
          assert.ok(error instanceof RoleLostError || error instanceof ZooKeeperError, `unexpected ${String(error)}`);
          outcomes.refused++;
          client = await h.client();
          continue;
        } finally {
          waiting.delete(party);
        }
        outcomes.acquired++;
        if (lease.signal.aborted) {
          // Suspended between the grant and this line: a holder checks its signal first.
          await lease.release();
          continue;
        }
        history.begin(party, lease.token);
        lease.signal.addEventListener('abort', () => history.end(party), { once: true });
        if (holderExpiries > 0 && random.chance(0.15)) {
          holderExpiries--;
          outcomes.expiredHolders++;
          await h.expire(client); // the holder hears SUSPENDED first: its signal ends its term
          assert.ok(lease.signal.aborted, 'lease.signal.aborted');
          await lease.release();
          client = await h.client();
          continue;
        }
        await sleep(random.int(8));
        history.end(party);
        await lease.release();
      }
    };

    // Meanwhile, expire a few waiters' sessions.
    const expirer = (async () => {
      while (!done && waiterExpiries > 0) {
        await sleep(20 + random.int(40));
        const candidates = [...waiting.entries()];
        if (candidates.length < 3) continue;
        const [, client] = candidates[random.int(candidates.length)]!;
        waiterExpiries--;
        await h.expire(client);
      }
    })();

    await within(Promise.all(Array.from({ length: 20 }, (_, i) => contender(i))), 90_000, 'contenders');
    done = true;
    await expirer;
    assert.equal(history.maxConcurrent, 1, `two holders overlapped:\n${history}`);
    const tokens = history.tokens();
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, 'fencing tokens must increase');
    assert.equal(outcomes.acquired + outcomes.refused, 60);
    assert.ok(outcomes.acquired >= 50, `too few acquisitions: ${JSON.stringify(outcomes)}`);
    const observer = await h.client();
    await eventually(async () => assert.deepEqual(await childrenOf(observer, path), []));
  },

  async 'no herd: releasing a lock with 100 waiters delivers exactly one watch notification'(h) {
    const path = h.path('herd');
    const holderClient = await h.client();
    const holder = await new Lock(holderClient, path).acquire();
    const clients = await Promise.all(Array.from({ length: 10 }, () => h.client()));
    const controllers: AbortController[] = [];
    const waiters: Promise<Lease>[] = [];
    for (let i = 0; i < 100; i++) {
      const controller = new AbortController();
      controllers.push(controller);
      const waiter = new Lock(clients[i % 10]!, path).acquire({ signal: controller.signal });
      waiter.catch(() => undefined);
      waiters.push(waiter);
    }
    // Every waiter queued and watching its predecessor.
    await eventually(() => assert.equal(localWatches(clients), 100), 20_000);
    const before = clients.reduce((n, c) => n + h.notifications(c), 0);
    await holder.release();
    const next = await within(Promise.race(waiters), 10_000, 'next holder');
    await sleep(300); // time for any stray notification to arrive
    const after = clients.reduce((n, c) => n + h.notifications(c), 0);
    assert.equal(after - before, 1, 'one release must wake exactly one waiter');
    // Abort everyone else; nothing may stay behind.
    for (const c of controllers) c.abort();
    const settled = await Promise.allSettled(waiters);
    assert.equal(settled.filter((s) => s.status === 'rejected').length, 99);
    await next.release();
    await assertClean(h, holderClient, path, [holderClient, ...clients]);
  },

  async 'reentrant within one Lock, exclusive across instances; tryAcquire; release counts down'(h) {
    const path = h.path('reentrant');
    const [a, b] = [await h.client(), await h.client()];
    const lockA = new Lock(a, path);
    const lockB = new Lock(b, path);
    const first = await lockA.acquire();
    const second = await lockA.acquire();
    assert.equal(first, second);
    assert.equal(lockA.holdCount, 2);
    assert.equal(await lockB.tryAcquire(), null);
    assert.equal(await new Lock(a, path).tryAcquire(), null, 'another instance on the same client contends');
    const waiter = lockB.acquire();
    await first.release();
    assert.ok(lockA.isHeld, 'lockA.isHeld');
    assert.ok(await stillPending(waiter), 'await stillPending(waiter)');
    await lockA.release();
    assert.ok(!lockA.isHeld, '!lockA.isHeld');
    const leaseB = await within(waiter, 5000, 'B acquires');
    assert.ok(leaseB.token > first.token, 'leaseB.token > first.token');
    await leaseB.release();
    await assertClean(h, a, path, [a, b]);
  },

  async 'a lock wait that times out or is aborted leaves no node and no watch'(h) {
    const path = h.path('abandon');
    const [a, b] = [await h.client(), await h.client()];
    const held = await new Lock(a, path).acquire();
    await assert.rejects(new Lock(b, path).acquire({ timeout: 150 }), WaitTimeoutError);
    const controller = new AbortController();
    const aborted = new Lock(b, path).acquire({ signal: controller.signal });
    await eventually(() => assert.equal(b.session.watches.size, 1));
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    assert.deepEqual((await childrenOf(a, path)).length, 1);
    assert.equal(b.session.watches.size, 0);
    await held.release();
    await assertClean(h, a, path, [a, b]);
  },

  async 'a holder is told at SUSPENDED, reinstated at RECONNECTED with its node, and loses the lease at EXPIRED'(h) {
    const path = h.path('suspend');
    const [a, b] = [await h.client(), await h.client()];
    const lock = new Lock(a, path);
    const lease = await lock.acquire();
    const events: string[] = [];
    lease.on('suspended', () => events.push('suspended'));
    lease.on('reinstated', () => events.push('reinstated'));
    lease.on('lost', (e) => events.push(`lost:${e.reason}`));
    const firstSignal = lease.signal;
    const heal = h.partition(a);
    assert.ok(firstSignal.aborted, 'the signal is aborted at once on SUSPENDED');
    assert.ok(!lease.held, '!lease.held');
    heal();
    await eventually(() => assert.ok(lease.held, 'lease.held'));
    assert.ok(!lease.signal.aborted, 'a new term has a live signal');
    const waiter = new Lock(b, path).acquire();
    assert.ok(await stillPending(waiter), 'the lock stayed held across the reconnect');
    await h.expire(a);
    // The client reports LOST (the session is gone) and then EXPIRED; the lease ends at the first.
    await eventually(() => assert.deepEqual(events, ['suspended', 'reinstated', 'suspended', 'lost:lost']));
    const leaseB = await within(waiter, 5000, 'B acquires after the expiry');
    assert.ok(leaseB.token > lease.token, 'leaseB.token > lease.token');
    await lease.release(); // cleanup of a lost lease is harmless
    await leaseB.release();
  },

  async 'read-write lock: readers share, a writer excludes, waiting in order'(h) {
    const path = h.path('rw');
    const clients = await Promise.all([0, 1, 2].map(() => h.client()));
    const [r1, r2, w] = clients.map((c) => new ReadWriteLock(c, path)) as [ReadWriteLock, ReadWriteLock, ReadWriteLock];
    const read1 = await r1.readLock.acquire();
    const read2 = await within(r2.readLock.acquire(), 5000, 'second reader');
    const writer = w.writeLock.acquire();
    assert.ok(await stillPending(writer), 'the writer waits for the readers');
    const lateReader = new ReadWriteLock(clients[0]!, path).readLock.acquire();
    assert.ok(await stillPending(lateReader), 'a reader behind a waiting writer waits');
    await read1.release();
    assert.ok(await stillPending(writer), 'await stillPending(writer)');
    await read2.release();
    const write = await within(writer, 5000, 'writer');
    assert.ok(await stillPending(lateReader), 'await stillPending(lateReader)');
    // The writer may take its own read lock (downgrade).
    const own = await within(w.readLock.acquire(), 5000, 'downgrade');
    await write.release();
    const late = await within(lateReader, 5000, 'late reader');
    await own.release();
    await late.release();
    await assertClean(h, clients[0]!, path, clients);
  },

  async 'semaphore: never more than maxLeases holders; everyone gets a lease'(h) {
    const path = h.path('semaphore');
    const clients = await Promise.all(Array.from({ length: 8 }, () => h.client()));
    let holding = 0;
    let peak = 0;
    await within(
      Promise.all(
        clients.map(async (client) => {
          const semaphore = new Semaphore(client, path, 3);
          for (let i = 0; i < 3; i++) {
            const lease = await semaphore.acquire({ timeout: 30_000 });
            holding++;
            peak = Math.max(peak, holding);
            await sleep(5);
            holding--;
            await lease.release();
          }
        }),
      ),
      60_000,
      'semaphore users',
    );
    assert.ok(peak <= 3, `peak ${peak}`);
    assert.ok(peak >= 2, 'leases were shared');
    const semaphore = new Semaphore(clients[0]!, path, 1);
    const only = await semaphore.acquire();
    assert.equal(await new Semaphore(clients[1]!, path, 1).tryAcquire(), null);
    await assert.rejects(new Semaphore(clients[1]!, path, 1).acquire({ timeout: 100 }), WaitTimeoutError);
    await only.release();
    await assertClean(h, clients[0]!, path, clients);
  },
};
