/**
 * The storage conformance suite: what every `Storage` implementation (memory, file)
 * guarantees, tested only through the `Storage` interface plus a small harness that
 * runs the implementation's clock or I/O.
 */
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { Txn } from '../../../src/protocol/txn.js';
import { makeZxid, type Zxid } from '../../../src/protocol/zxid.js';
import { seededRandom } from '../../../src/runtime/random.js';
import type { DurableState, Snapshot, Storage } from '../../../src/storage/types.js';
import { sampleTxn, snapshotBytes, txnRange } from './txns.js';

/** What an implementation provides to run the suite. */
export interface StorageHarness {
  /** The storage under test, not opened yet. */
  readonly storage: Storage;
  /** Run the implementation (step its clock, or wait for its I/O) until `cond` holds; throws on a hang. */
  until(cond: () => boolean, what: string): Promise<void>;
  /** Run everything that is ready and give in-flight I/O time to finish (nothing is expected to happen). */
  idle(): Promise<void>;
  /**
   * The storage of the restarted server, after `storage.close()` of the current one:
   * the same object (memory) or possibly a new one on the same directory (file). Not opened.
   */
  restart(): Storage;
  /** Delete whatever the harness created. */
  cleanup(): Promise<void>;
}

/** Creates a fresh, empty harness. */
export type HarnessFactory = () => StorageHarness;

/** Callback bookkeeping: the order in which completion callbacks ran. */
class Calls {
  readonly order: string[] = [];
  cb(name: string): () => void {
    return () => this.order.push(name);
  }
  has(name: string): boolean {
    return this.order.includes(name);
  }
}

/** A plain-data view of transactions, for deep equality. */
function plain(txns: readonly Txn[]): unknown {
  return txns.map((t) => JSON.parse(JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Array.from(v) : v))));
}

function assertTxns(actual: readonly Txn[], expected: readonly Txn[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: count`);
  assert.deepEqual(plain(actual), plain(expected), what);
}

function assertSnapshot(actual: Snapshot | null, expected: Snapshot | null, what: string): void {
  if (expected === null) {
    assert.equal(actual, null, what);
    return;
  }
  assert.ok(actual, `${what}: a snapshot`);
  assert.equal(actual.zxid, expected.zxid, `${what}: zxid`);
  assert.deepEqual(Array.from(actual.bytes), Array.from(expected.bytes), `${what}: bytes`);
}

/** Everything a reader can observe. */
function observe(s: Storage): { logStart: Zxid; lastLoggedZxid: Zxid; snapshot: Snapshot | null; log: Txn[] } {
  return { logStart: s.logStart, lastLoggedZxid: s.lastLoggedZxid, snapshot: s.latestSnapshot(), log: s.readLog(s.logStart) };
}

/** One mutation, awaited. */
async function run(h: StorageHarness, issue: (done: () => void) => void, what: string): Promise<void> {
  let done = false;
  issue(() => {
    done = true;
  });
  await h.until(() => done, what);
}

/** Close and reopen (a clean restart: everything was acknowledged). Returns the reopened storage and its state. */
function reopen(h: StorageHarness, s: Storage): { storage: Storage; state: DurableState } {
  s.close();
  const storage = h.restart();
  return { storage, state: storage.open() };
}

/** A reference model of the contract (what MemoryStorage does). */
class Model {
  acceptedEpoch = 0;
  currentEpoch = 0;
  snapshot: Snapshot | null = null;
  log: Txn[] = [];
  start: Zxid = 0;

  get last(): Zxid {
    return this.log.length > 0 ? this.log[this.log.length - 1]!.header.zxid : this.start;
  }
  after(zxid: Zxid): Txn[] {
    return this.log.filter((t) => t.header.zxid > zxid);
  }
  append(txns: Txn[]): void {
    this.log.push(...txns);
  }
  truncate(zxid: Zxid): void {
    this.log = this.log.filter((t) => t.header.zxid <= zxid);
  }
  save(s: Snapshot): void {
    if (!this.snapshot || s.zxid >= this.snapshot.zxid) this.snapshot = s;
  }
  install(s: Snapshot): void {
    this.snapshot = s;
    this.log = [];
    this.start = s.zxid;
  }
  purge(zxid: Zxid): void {
    const limit = Math.min(zxid, this.snapshot?.zxid ?? this.start);
    if (limit <= this.start) return;
    this.log = this.log.filter((t) => t.header.zxid > limit);
    this.start = limit;
  }
}

/**
 * Compare a storage with the model. Purging may keep more of the log than asked
 * (whole segments), so the storage's log may start earlier than the model's; every
 * entry after the model's start must match exactly.
 */
function assertMatches(s: Storage, m: Model, what: string): void {
  assert.ok(s.logStart <= m.start, `${what}: logStart ${s.logStart} <= ${m.start}`);
  assert.equal(s.lastLoggedZxid, m.last, `${what}: lastLoggedZxid`);
  assertTxns(s.readLog(m.start), m.log, `${what}: log`);
  assertSnapshot(s.latestSnapshot(), m.snapshot, `${what}: snapshot`);
}

/** Run the suite against the implementation built by `factory`. */
export function storageConformance(name: string, factory: HarnessFactory): void {
  const withHarness = (title: string, body: (h: StorageHarness, s: Storage) => Promise<void>): void => {
    test(title, async () => {
      const h = factory();
      try {
        await body(h, h.storage);
      } finally {
        h.storage.close();
        await h.cleanup();
      }
    });
  };

  describe(`storage conformance: ${name}`, () => {
    withHarness('a fresh storage is empty', async (_h, s) => {
      const state = s.open();
      assert.deepEqual(state, { acceptedEpoch: 0, currentEpoch: 0, snapshot: null, logStart: 0, lastLoggedZxid: 0 });
      assert.deepEqual(s.readLog(0), []);
      assert.equal(s.latestSnapshot(), null);
      assert.equal(s.logStart, 0);
      assert.equal(s.lastLoggedZxid, 0);
    });

    withHarness('appended transactions of every kind read back exactly', async (h, s) => {
      s.open();
      const txns = txnRange(1, 1, 48);
      await run(h, (done) => s.append(txns.slice(0, 1), done), 'first append');
      await run(h, (done) => s.append(txns.slice(1), done), 'batch append');
      assert.equal(s.lastLoggedZxid, makeZxid(1, 48));
      assertTxns(s.readLog(0), txns, 'whole log');
      assertTxns(s.readLog(makeZxid(1, 10)), txns.slice(10), 'after 10');
      assertTxns(s.readLog(makeZxid(1, 10), 5), txns.slice(10, 15), 'limit 5');
      assertTxns(s.readLog(makeZxid(1, 10), 0), [], 'limit 0');
      assertTxns(s.readLog(makeZxid(1, 48)), [], 'after the last');
      assertTxns(s.readLog(makeZxid(0, 7)), txns, 'between entries (before the first)');
    });

    withHarness('callbacks are asynchronous and run once, in issue order (saveSnapshot may run late), across every kind of mutation', async (h, s) => {
      s.open();
      const calls = new Calls();
      s.append(txnRange(1, 1, 3), calls.cb('a1'));
      s.writeAcceptedEpoch(1, calls.cb('accepted'));
      s.append(txnRange(1, 4, 2), calls.cb('a2'));
      s.saveSnapshot({ zxid: makeZxid(1, 2), bytes: snapshotBytes(1) }, calls.cb('save'));
      s.append([], calls.cb('empty'));
      s.writeCurrentEpoch(1, calls.cb('current'));
      s.truncate(makeZxid(1, 4), calls.cb('truncate'));
      s.append(txnRange(1, 5, 1), calls.cb('a3'));
      s.purge(makeZxid(1, 2), calls.cb('purge'));
      s.installSnapshot({ zxid: makeZxid(2, 0), bytes: snapshotBytes(2) }, calls.cb('install'));
      s.append(txnRange(2, 1, 2), calls.cb('a4'));
      assert.deepEqual(calls.order, [], 'nothing completes synchronously');
      await h.until(() => calls.order.length === 11, 'all callbacks');
      // saveSnapshot may complete after later mutations, but after everything before it
      // and before the next snapshot (the install).
      const order: readonly string[] = calls.order; // (not narrowed by the assertion above)
      assert.deepEqual(
        order.filter((c) => c !== 'save'),
        ['a1', 'accepted', 'a2', 'empty', 'current', 'truncate', 'a3', 'purge', 'install', 'a4'],
      );
      const save = order.indexOf('save');
      assert.ok(save > order.indexOf('a2') && save < order.indexOf('install'), `save at ${save}: ${order.join(' ')}`);
      await h.idle();
      assert.equal(calls.order.length, 11, 'no callback runs twice');
    });

    withHarness('reads see a mutation only once its callback may run', async (h, s) => {
      s.open();
      await run(h, (done) => s.append(txnRange(1, 1, 2), done), 'append');
      let done = false;
      s.append(txnRange(1, 3, 2), () => {
        done = true;
        // Inside the callback the append is durable and visible.
        assert.equal(s.lastLoggedZxid, makeZxid(1, 4));
      });
      assert.equal(s.lastLoggedZxid, makeZxid(1, 2), 'not visible before it is durable');
      assert.equal(s.readLog(0).length, 2);
      s.saveSnapshot({ zxid: makeZxid(1, 2), bytes: snapshotBytes(9) }, () => {});
      assert.equal(s.latestSnapshot(), null, 'snapshot not visible before it is durable');
      await h.until(() => done, 'append');
      assert.equal(s.readLog(0).length, 4);
      await h.until(() => s.latestSnapshot() !== null, 'snapshot');
    });

    withHarness('epochs are persisted', async (h, s) => {
      s.open();
      await run(h, (done) => s.writeAcceptedEpoch(5, done), 'accepted');
      await run(h, (done) => s.writeCurrentEpoch(4, done), 'current');
      await run(h, (done) => s.writeCurrentEpoch(5, done), 'current again');
      const { state } = reopen(h, s);
      assert.equal(state.acceptedEpoch, 5);
      assert.equal(state.currentEpoch, 5);
    });

    withHarness('truncate drops every entry above the zxid, and the log continues from there', async (h, s) => {
      s.open();
      const txns = txnRange(1, 1, 20);
      await run(h, (done) => s.append(txns, done), 'append');
      await run(h, (done) => s.truncate(makeZxid(1, 25), done), 'truncate above the end (no-op)');
      assert.equal(s.lastLoggedZxid, makeZxid(1, 20));
      await run(h, (done) => s.truncate(makeZxid(1, 12), done), 'truncate');
      assert.equal(s.lastLoggedZxid, makeZxid(1, 12));
      assertTxns(s.readLog(0), txns.slice(0, 12), 'after truncate');
      // A different history after the truncation point (a new epoch's proposals).
      const next = txnRange(2, 1, 5);
      await run(h, (done) => s.append(next, done), 'append after truncate');
      assertTxns(s.readLog(0), [...txns.slice(0, 12), ...next], 'new history');
      await run(h, (done) => s.truncate(0, done), 'truncate everything');
      assert.equal(s.lastLoggedZxid, 0);
      assertTxns(s.readLog(0), [], 'empty');
      const { storage, state } = reopen(h, s);
      assert.equal(state.lastLoggedZxid, 0);
      await run(h, (done) => storage.append(txns.slice(0, 3), done), 'append after reopen');
      assertTxns(storage.readLog(0), txns.slice(0, 3), 'log after reopen');
    });

    withHarness('saved snapshots: the newest is kept, the log is kept', async (h, s) => {
      s.open();
      await run(h, (done) => s.append(txnRange(1, 1, 10), done), 'append');
      const snap5 = { zxid: makeZxid(1, 5), bytes: snapshotBytes(5) };
      const snap8 = { zxid: makeZxid(1, 8), bytes: snapshotBytes(8, 70_000) };
      await run(h, (done) => s.saveSnapshot(snap8, done), 'save 8');
      await run(h, (done) => s.saveSnapshot(snap5, done), 'save 5 (older)');
      assertSnapshot(s.latestSnapshot(), snap8, 'newest');
      assert.equal(s.readLog(0).length, 10, 'the log is kept');
      const { storage, state } = reopen(h, s);
      assertSnapshot(state.snapshot, snap8, 'after reopen');
      assertSnapshot(storage.latestSnapshot(), snap8, 'latestSnapshot after reopen');
      assert.equal(state.logStart, 0);
      assert.equal(state.lastLoggedZxid, makeZxid(1, 10));
    });

    withHarness('installSnapshot replaces the whole database', async (h, s) => {
      s.open();
      await run(h, (done) => s.append(txnRange(1, 1, 10), done), 'append');
      await run(h, (done) => s.saveSnapshot({ zxid: makeZxid(1, 6), bytes: snapshotBytes(6) }, done), 'save');
      const snap = { zxid: makeZxid(1, 8), bytes: snapshotBytes(88) };
      await run(h, (done) => s.installSnapshot(snap, done), 'install');
      assert.equal(s.logStart, snap.zxid);
      assert.equal(s.lastLoggedZxid, snap.zxid);
      assertTxns(s.readLog(0), [], 'the log is empty');
      assertSnapshot(s.latestSnapshot(), snap, 'installed');
      const next = txnRange(2, 1, 3);
      await run(h, (done) => s.append(next, done), 'append after install');
      const { storage, state } = reopen(h, s);
      assertSnapshot(state.snapshot, snap, 'after reopen');
      assert.equal(state.logStart, snap.zxid);
      assert.equal(state.lastLoggedZxid, makeZxid(2, 3));
      assertTxns(storage.readLog(snap.zxid), next, 'log after reopen');
    });

    withHarness('installSnapshot below the current state (a wipe) wins over newer local snapshots', async (h, s) => {
      s.open();
      await run(h, (done) => s.append(txnRange(3, 1, 10), done), 'append');
      await run(h, (done) => s.saveSnapshot({ zxid: makeZxid(3, 9), bytes: snapshotBytes(9) }, done), 'save');
      const empty = { zxid: 0, bytes: snapshotBytes(0, 10) };
      await run(h, (done) => s.installSnapshot(empty, done), 'install zxid 0');
      assertSnapshot(s.latestSnapshot(), empty, 'installed');
      assert.equal(s.lastLoggedZxid, 0);
      const { storage, state } = reopen(h, s);
      assertSnapshot(state.snapshot, empty, 'after reopen');
      assert.equal(state.lastLoggedZxid, 0);
      assertTxns(storage.readLog(0), [], 'empty log');
    });

    withHarness('purge forgets only entries covered by a snapshot', async (h, s) => {
      s.open();
      const txns = txnRange(1, 1, 30);
      for (let i = 0; i < 30; i += 5) await run(h, (done) => s.append(txns.slice(i, i + 5), done), `append ${i}`);
      await run(h, (done) => s.purge(makeZxid(1, 20), done), 'purge without a snapshot (no-op)');
      assert.equal(s.logStart, 0);
      await run(h, (done) => s.saveSnapshot({ zxid: makeZxid(1, 10), bytes: snapshotBytes(10) }, done), 'save');
      await run(h, (done) => s.purge(makeZxid(1, 20), done), 'purge up to the snapshot');
      assert.ok(s.logStart <= makeZxid(1, 10), 'not beyond the snapshot');
      assertTxns(s.readLog(makeZxid(1, 10)), txns.slice(10), 'entries after the snapshot');
      assertTxns(s.readLog(s.logStart), txns.filter((t) => t.header.zxid > s.logStart), 'from logStart');
      const before = observe(s);
      const { storage, state } = reopen(h, s);
      assert.equal(state.logStart, before.logStart);
      assert.equal(state.lastLoggedZxid, makeZxid(1, 30));
      assertTxns(storage.readLog(storage.logStart), before.log, 'same log after reopen');
    });

    withHarness('close() drops pending callbacks; a pending mutation may or may not survive', async (h, s) => {
      s.open();
      await run(h, (done) => s.append(txnRange(1, 1, 3), done), 'append');
      const calls = new Calls();
      s.append(txnRange(1, 4, 3), calls.cb('pending'));
      s.writeCurrentEpoch(1, calls.cb('epoch'));
      s.close();
      await h.idle();
      assert.deepEqual(calls.order, [], 'no callback after close');
      const storage = h.restart();
      const state = storage.open();
      assert.ok(state.lastLoggedZxid === makeZxid(1, 3) || state.lastLoggedZxid === makeZxid(1, 6), 'the pending append is all there or not at all');
      assert.equal(storage.readLog(0).length, counterOfLast(state));
      await run(h, (done) => storage.append(txnRange(1, 7, 1), done), 'append after the crash');
      await h.idle();
      assert.deepEqual(calls.order, [], 'still no old callback');
    });

    withHarness('a callback that closes the storage stops the callbacks after it', async (h, s) => {
      s.open();
      const calls = new Calls();
      let closed = false;
      s.append(txnRange(1, 1, 1), () => {
        calls.order.push('first');
        s.close();
        closed = true;
      });
      s.append(txnRange(1, 2, 1), calls.cb('second'));
      await h.until(() => closed, 'first callback');
      await h.idle();
      assert.deepEqual(calls.order, ['first']);
    });

    withHarness('reopen returns exactly the durable state, repeatedly', async (h, s0) => {
      let s = s0;
      s.open();
      const model = new Model();
      const txns = txnRange(1, 1, 40);
      for (let round = 0; round < 4; round++) {
        const batch = txns.slice(round * 10, round * 10 + 10);
        await run(h, (done) => s.append(batch, done), `append ${round}`);
        model.append(batch);
        await run(h, (done) => s.writeAcceptedEpoch(round + 1, done), 'accepted');
        model.acceptedEpoch = round + 1;
        if (round === 1) {
          const snap = { zxid: makeZxid(1, 15), bytes: snapshotBytes(15) };
          await run(h, (done) => s.saveSnapshot(snap, done), 'save');
          model.save(snap);
        }
        const before = observe(s);
        const r = reopen(h, s);
        s = r.storage;
        assert.equal(r.state.acceptedEpoch, model.acceptedEpoch);
        assert.equal(r.state.currentEpoch, model.currentEpoch);
        assert.equal(r.state.logStart, before.logStart);
        assert.equal(r.state.lastLoggedZxid, before.lastLoggedZxid);
        assertSnapshot(r.state.snapshot, before.snapshot, `round ${round} snapshot`);
        assertTxns(s.readLog(s.logStart), before.log, `round ${round} log`);
        assertMatches(s, model, `round ${round}`);
      }
      s.close();
    });

    for (const seed of [1, 2, 3]) {
      withHarness(`random mutation sequences match the reference model (seed ${seed})`, async (h, s0) => {
        const random = seededRandom(seed);
        let s = s0;
        s.open();
        const model = new Model();
        let epoch = 1;
        let counter = 0;
        for (let step = 0; step < 40; step++) {
          const pick = random.int(100);
          const calls: string[] = [];
          let issued = 0;
          // Issue a few mutations back to back (they complete in one go), then check.
          const burst = 1 + random.int(3);
          for (let b = 0; b < burst; b++, issued++) {
            const kind = b === 0 ? pick : random.int(100);
            if (kind < 45) {
              const n = random.int(8);
              const txns = Array.from({ length: n }, () => sampleTxn(makeZxid(epoch, ++counter), counter));
              s.append(txns, () => calls.push('append'));
              model.append(txns);
            } else if (kind < 55) {
              const last = model.last;
              const keep = model.log.length > 0 ? model.log[random.int(model.log.length)]!.header.zxid : last;
              const zxid = Math.max(keep, model.snapshot?.zxid ?? 0, model.start);
              s.truncate(zxid, () => calls.push('truncate'));
              model.truncate(zxid);
              if (zxid < last) {
                epoch++; // a new leader's history follows a truncation
                counter = 0;
              }
            } else if (kind < 68) {
              if (model.log.length === 0) {
                issued--;
                continue;
              }
              const zxid = model.log[random.int(model.log.length)]!.header.zxid;
              const snap = { zxid, bytes: snapshotBytes(zxid, 1 + random.int(3000)) };
              s.saveSnapshot(snap, () => calls.push('save'));
              model.save(snap);
            } else if (kind < 78) {
              const zxid = model.snapshot ? model.snapshot.zxid : model.last;
              s.purge(zxid, () => calls.push('purge'));
              model.purge(zxid);
            } else if (kind < 83) {
              epoch++;
              counter = 0;
              const snap = { zxid: makeZxid(epoch, 0), bytes: snapshotBytes(epoch, 500) };
              s.installSnapshot(snap, () => calls.push('install'));
              model.install(snap);
            } else if (kind < 91) {
              const e = model.acceptedEpoch + 1;
              s.writeAcceptedEpoch(e, () => calls.push('accepted'));
              model.acceptedEpoch = e;
            } else {
              const e = model.currentEpoch + 1;
              s.writeCurrentEpoch(e, () => calls.push('current'));
              model.currentEpoch = e;
            }
          }
          await h.until(() => calls.length === issued, `step ${step}`);
          assertMatches(s, model, `seed ${seed} step ${step}`);
          if (random.chance(0.2)) {
            const r = reopen(h, s);
            s = r.storage;
            assert.equal(r.state.acceptedEpoch, model.acceptedEpoch, 'acceptedEpoch after reopen');
            assert.equal(r.state.currentEpoch, model.currentEpoch, 'currentEpoch after reopen');
            assertMatches(s, model, `seed ${seed} step ${step} after reopen`);
          }
        }
        s.close();
      });
    }
  });
}

function counterOfLast(state: DurableState): number {
  return state.lastLoggedZxid === 0 ? 0 : state.lastLoggedZxid - makeZxid(1, 0);
}
