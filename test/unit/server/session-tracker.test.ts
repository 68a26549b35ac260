import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SessionTracker,
  defaultTimeoutBounds,
  initialSessionId,
  negotiateTimeout,
} from '../../../src/server/session-tracker.js';
import { checkSessionPassword, sessionPassword } from '../../../src/server/session-password.js';
import { ErrorCode, ZooKeeperError } from '../../../src/protocol/errors.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

test('passwords match Apache ZooKeeper byte for byte (observed on 3.8.0)', () => {
  assert.equal(hex(sessionPassword(0x0100000de4790000n)), '8d315fdd96f89d88b367e2fecf413758');
});

test('a password validates only for its own session id, never for session 0', () => {
  const password = sessionPassword(0x0100000de4790000n);
  assert.ok(checkSessionPassword(0x0100000de4790000n, password));
  assert.ok(!checkSessionPassword(0x0100000de4790001n, password));
  assert.ok(!checkSessionPassword(0n, sessionPassword(0n)));
  assert.ok(!checkSessionPassword(0x0100000de4790000n, new Uint8Array(16)));
  assert.ok(!checkSessionPassword(0x0100000de4790000n, password.subarray(0, 8)));
});

test('with an ensemble secret the password depends on the secret', () => {
  const id = -0x7eadbeef00000001n;
  const a = sessionPassword(id, 'secret-a');
  assert.equal(a.length, 16);
  assert.notEqual(hex(a), hex(sessionPassword(id, 'secret-b')));
  assert.ok(checkSessionPassword(id, a, 'secret-a'));
  assert.ok(!checkSessionPassword(id, a, 'secret-b'));
  assert.ok(!checkSessionPassword(id, sessionPassword(id), 'secret-a'));
});

test('timeouts are clamped to [2, 20] x tickTime by default (observed: 1 -> 4000, 100000 -> 40000)', () => {
  const bounds = defaultTimeoutBounds(2000);
  assert.equal(negotiateTimeout(1, bounds), 4000);
  assert.equal(negotiateTimeout(100_000, bounds), 40_000);
  assert.equal(negotiateTimeout(10_000, bounds), 10_000);
});

test('session ids carry the server id in the high byte and count up from a clock-derived start', () => {
  const first = initialSessionId(1, 0x0de479);
  assert.equal(first >> 56n, 1n);
  const tracker = new SessionTracker(2000, 5, 123_456_789);
  const a = tracker.allocateSessionId();
  const b = tracker.allocateSessionId();
  assert.equal(a >> 56n, 5n);
  assert.equal(b, a + 1n);
  assert.equal(initialSessionId(255, 1) < 0n, true, 'server 255 makes negative (signed) ids, as Java does');
});

test('a session expires between timeout and timeout + tickTime after its last touch', () => {
  const tick = 2000;
  const tracker = new SessionTracker(tick, 1, 0);
  const id = tracker.allocateSessionId();
  tracker.addSession(id, 4000, 100);
  // roundUp(100 + 4000) = 6000
  assert.equal(tracker.get(id)!.expiresAt, 6000);
  assert.deepEqual(tracker.takeExpired(5999), []);
  const expired = tracker.takeExpired(6000);
  assert.deepEqual(expired.map((s) => s.id), [id]);
  assert.equal(tracker.get(id)!.closing, true, 'expired sessions are closing until removed');
  assert.equal(tracker.touch(id, 6001), false, 'a closing session cannot be touched');
  tracker.removeSession(id);
  assert.equal(tracker.size, 0);
});

test('touching moves a session to a later bucket; the reaper catches up over skipped buckets', () => {
  const tracker = new SessionTracker(1000, 1, 0);
  const a = tracker.allocateSessionId();
  const b = tracker.allocateSessionId();
  tracker.addSession(a, 3000, 0); // bucket 4000
  tracker.addSession(b, 3000, 0);
  assert.equal(tracker.touch(a, 2500), true); // bucket 6000
  assert.equal(tracker.nextExpiration(), 1000);
  assert.deepEqual(tracker.takeExpired(4500).map((s) => s.id), [b]);
  assert.equal(tracker.nextExpiration(), 5000);
  assert.deepEqual(tracker.takeExpired(5999), []);
  assert.deepEqual(tracker.takeExpired(6000).map((s) => s.id), [a]);
});

test('unknown sessions cannot be touched; closing sessions are SessionExpired; other owners get SessionMoved', () => {
  const tracker = new SessionTracker(1000, 1, 0);
  assert.equal(tracker.touch(42n, 0), false);
  const id = tracker.allocateSessionId();
  tracker.addSession(id, 2000, 0);
  tracker.checkSession(id, 'server-1');
  assert.throws(() => tracker.checkSession(id, 'server-2'), (e: unknown) => e instanceof ZooKeeperError && e.code === ErrorCode.SessionMoved);
  assert.equal(tracker.setOwner(id, 'server-2'), true);
  tracker.checkSession(id, 'server-2');
  tracker.setClosing(id);
  assert.throws(() => tracker.checkSession(id, 'server-2'), (e: unknown) => e instanceof ZooKeeperError && e.code === ErrorCode.SessionExpired);
  assert.throws(() => tracker.checkSession(7n, 'server-2'), (e: unknown) => e instanceof ZooKeeperError && e.code === ErrorCode.SessionExpired);
});
