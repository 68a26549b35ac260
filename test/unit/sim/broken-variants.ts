/**
 * Deliberately broken variants of zoostate, built only here (never in the shipped code
 * path), to prove the simulator's checkers can fail.
 */
import type { Txn } from '../../../src/protocol/txn.js';
import type { Zxid } from '../../../src/protocol/zxid.js';
import type { Clock } from '../../../src/runtime/clock.js';
import type { Membership } from '../../../src/machines/quorum.js';
import type { DurableState, Snapshot, Storage, StorageDone } from '../../../src/storage/types.js';
import { CreateMode } from '../../../src/protocol/constants.js';
import { ConnectionLossError, NodeExistsError } from '../../../src/protocol/errors.js';
import type { ClientService } from '../../../src/server/client-service.js';
import type { LockFactory, SimLease } from '../../../src/sim/recipe-workload.js';
import type { WatchEvent } from '../../../src/tree/events.js';
import { WatchRegistry, type Deliver } from '../../../src/tree/watches.js';

/**
 * A storage whose log "fsync" lies: `append` reports durable at once (so a follower ACKs
 * a proposal before it is logged, and a leader counts its own ACK), while every write
 * reaches the real storage only `lagMs` later, in order. A crash in between loses what
 * was already acknowledged.
 */
export class LyingStorage implements Storage {
  private queue: { at: number; run: () => void }[] = [];
  private timer: unknown = null;

  constructor(
    private readonly inner: Storage,
    private readonly clock: Clock,
    private readonly lagMs: number,
  ) {}

  open(): DurableState {
    this.drop();
    return this.inner.open();
  }

  close(): void {
    this.drop();
    this.inner.close();
  }

  append(txns: readonly Txn[], done: StorageDone): void {
    const batch = txns.slice();
    this.later(() => this.inner.append(batch, () => {}));
    this.clock.defer(done); // the lie: "durable" before it even reached the log
  }

  writeAcceptedEpoch(epoch: number, done: StorageDone): void {
    this.later(() => this.inner.writeAcceptedEpoch(epoch, done));
  }

  writeCurrentEpoch(epoch: number, done: StorageDone): void {
    this.later(() => this.inner.writeCurrentEpoch(epoch, done));
  }

  truncate(zxid: Zxid, done: StorageDone): void {
    this.later(() => this.inner.truncate(zxid, done));
  }

  saveSnapshot(snapshot: Snapshot, done: StorageDone): void {
    this.later(() => this.inner.saveSnapshot(snapshot, done));
  }

  installSnapshot(snapshot: Snapshot, done: StorageDone): void {
    this.later(() => this.inner.installSnapshot(snapshot, done));
  }

  purge(zxid: Zxid, done: StorageDone): void {
    this.later(() => this.inner.purge(zxid, done));
  }

  readLog(after: Zxid, limit?: number): Txn[] {
    return this.inner.readLog(after, limit);
  }

  get logStart(): Zxid {
    return this.inner.logStart;
  }

  get lastLoggedZxid(): Zxid {
    return this.inner.lastLoggedZxid;
  }

  latestSnapshot(): Snapshot | null {
    return this.inner.latestSnapshot();
  }

  private later(run: () => void): void {
    this.queue.push({ at: this.clock.now() + this.lagMs, run });
    if (this.timer === null) this.arm();
  }

  private arm(): void {
    const head = this.queue[0]!;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      const now = this.clock.now();
      while (this.queue.length > 0 && this.queue[0]!.at <= now) this.queue.shift()!.run();
      if (this.queue.length > 0) this.arm();
    }, Math.max(0, head.at - this.clock.now()));
  }

  private drop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }
}

/**
 * Server 1 believes it is the only voter (the others observers): its quorum is itself, so
 * it leads and commits without anyone's ACK while the real majority elects its own
 * leader — a leader that commits before a quorum ACKs.
 */
export function selfQuorum(id: number, membership: Membership): Membership {
  if (id !== 1) return membership;
  return { voters: [1], observers: [...membership.voters.filter((v) => v !== 1), ...membership.observers] };
}

/**
 * A server-side watch registry that delivers every `every`-th delivery twice (to the
 * same connection, for the same trigger): a one-shot watch that fires twice.
 */
export class DoubleFiringRegistry<W> extends WatchRegistry<W> {
  private n = 0;

  constructor(private readonly every = 3) {
    super();
  }

  override trigger(event: WatchEvent, deliver: Deliver<W>): number {
    return super.trigger(event, (watcher, e) => {
      deliver(watcher, e);
      if (++this.n % this.every === 0) deliver(watcher, e);
    });
  }
}

/** A server-side watch registry that drops every `every`-th delivery: a watch that never fires. */
export class DroppingRegistry<W> extends WatchRegistry<W> {
  private n = 0;

  constructor(private readonly every = 3) {
    super();
  }

  override trigger(event: WatchEvent, deliver: Deliver<W>): number {
    return super.trigger(event, (watcher, e) => {
      if (++this.n % this.every !== 0) deliver(watcher, e);
    });
  }
}

/** Swap a client service's watch registry (its field is read at every use). */
export function withRegistry(make: () => WatchRegistry<unknown>): (id: number, service: ClientService) => void {
  return (_id, service) => {
    (service as unknown as { watches: WatchRegistry<unknown> }).watches = make();
  };
}

/**
 * A lock with the classic bug: a waiter watches its predecessor, and when that node goes
 * it assumes it holds the lock, without listing the directory again. When a waiter in the
 * middle of the line leaves (timeout, crash, expiry), its successor "holds" while the
 * real holder still does. Otherwise honest: it honours SUSPENDED/LOST (the lease's
 * signal aborts) and deletes its node on timeout and release.
 */
export const predecessorTrustingLock: LockFactory = (client, path, env) => ({
  acquire: async (options) => {
    for (let i = 0; i < 10; i++) {
      try {
        await client.create(path.slice(0, path.lastIndexOf('/')) || '/', null).catch(() => undefined);
        await client.create(path, null).catch((e: unknown) => {
          if (!(e instanceof NodeExistsError)) throw e;
        });
        break;
      } catch (error) {
        if (!(error instanceof ConnectionLossError)) throw error;
        await client.waitUntilConnected();
      }
    }
    const created = await client.create(`${path}/lock-`, null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL, stat: true });
    const name = created.path.slice(path.length + 1);
    const lease = (): SimLease => {
      const controller = new AbortController();
      const onState = (state: string): void => {
        if (state !== 'CONNECTED' && state !== 'RECONNECTED') controller.abort(new Error(state));
      };
      client.on('state', onState);
      return {
        token: created.stat.czxid,
        signal: controller.signal,
        release: async () => {
          client.off('state', onState);
          await client.delete(created.path).catch(() => undefined);
        },
      };
    };
    const children = (await client.getChildren(path)).filter((c) => c.startsWith('lock-')).sort();
    const index = children.indexOf(name);
    if (index === 0) return lease();
    const predecessor = `${path}/${children[index - 1]!}`;
    await new Promise<void>((resolve, reject) => {
      let timer: unknown;
      if (options.timeout !== undefined) {
        timer = env.clock.setTimeout(() => {
          void client.delete(created.path).catch(() => undefined);
          reject(new Error('timeout'));
        }, options.timeout);
      }
      const done = (): void => {
        if (timer !== undefined) env.clock.clearTimeout(timer);
        resolve(); // the bug: the predecessor went, so "we hold it"
      };
      client.exists(predecessor, { watch: () => done() }).then((stat) => {
        if (stat === null) done();
      }, reject);
    });
    return lease();
  },
});
