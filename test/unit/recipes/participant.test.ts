import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectionEvent } from 'xstate';
import { RoleLostError } from '../../../src/recipes/errors.js';
import { Participant, type ParticipantEvent, type ParticipantStatus } from '../../../src/recipes/participant.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';

/** A participant plus a log of its states and emitted events. */
function scripted(recipe: string, member = false, clock = new VirtualClock()) {
  const log: string[] = [];
  const p = new Participant({ recipe, name: 'p', member, clock });
  const where = (s: ParticipantStatus): string => (s.substate ? `${s.phase}.${s.substate}` : s.phase);
  p.on('state', (s) => {
    if (log[log.length - 1] !== where(s)) log.push(where(s));
  });
  p.on('granted', (_signal, term) => log.push(`granted#${term}`));
  p.on('revoked', (e) => log.push(`revoked:${e.reason}`));
  p.on('timedOut', (e) => log.push(`timedOut:${e.timeout}`));
  const send = (...events: ParticipantEvent[]): void => {
    for (const e of events) p.send(e);
  };
  return { p, log, send, clock };
}

test('a lock acquisition: waiting → holding → leaving → left, one term, released', () => {
  const { p, log, send } = scripted('lock');
  assert.equal(p.actor.getSnapshot().machine.id, 'lock');
  send({ type: 'WAIT' }, { type: 'NODE', node: '/l/n1' }, { type: 'ACQUIRED', token: 42 });
  assert.ok(p.holding, 'holding');
  const signal = p.signal!;
  assert.equal(signal.aborted, false);
  send({ type: 'RELEASE' }, { type: 'LEFT' });
  assert.deepEqual(log, ['waiting.queued', 'granted#1', 'holding.active', 'revoked:released', 'leaving', 'left']);
  assert.ok(signal.aborted, 'the term signal ends with the term');
  assert.ok(signal.reason instanceof RoleLostError && signal.reason.reason === 'released', 'reason released');
  assert.equal(p.status.token, 42);
  assert.equal(p.status.node, '/l/n1');
  assert.equal(p.actor.getSnapshot().status, 'done');
});

test('SUSPENDED aborts the holder\'s signal at once; RECONNECTED + VERIFIED starts a new term with a fresh signal', () => {
  const { p, log, send } = scripted('leaderLatch', true);
  send({ type: 'JOIN' }, { type: 'JOINED', node: '/e/n' }, { type: 'ACQUIRED', token: 7 });
  const first = p.signal!;
  send({ type: 'SUSPENDED' });
  assert.ok(first.aborted, 'aborted on SUSPENDED');
  assert.equal((first.reason as RoleLostError).reason, 'suspended');
  assert.equal(p.holding, false);
  send({ type: 'RECONNECTED' });
  assert.equal(p.status.substate, 'verifying');
  send({ type: 'VERIFIED' });
  assert.ok(p.holding, 'holding again');
  assert.notEqual(p.signal, first);
  assert.equal(p.signal!.aborted, false);
  assert.equal(p.status.terms, 2);
  assert.equal(p.status.token, 7, 'the same node keeps its fencing token');
  assert.deepEqual(log, [
    'joining',
    'member.ready',
    'granted#1',
    'holding.active',
    'revoked:suspended',
    'holding.suspended',
    'holding.verifying',
    'granted#2',
    'holding.active',
  ]);
});

test('a node found gone after the reconnect is lost; a member may join again', () => {
  const { p, log, send } = scripted('leaderLatch', true);
  send({ type: 'JOIN' }, { type: 'JOINED', node: '/e/n' }, { type: 'ACQUIRED' }, { type: 'SUSPENDED' }, { type: 'RECONNECTED' }, { type: 'NODE_GONE' });
  assert.equal(p.phase, 'lost');
  assert.equal(p.status.lossReason, 'node-deleted');
  send({ type: 'JOIN' });
  assert.equal(p.phase, 'joining');
  assert.deepEqual(log.slice(-3), ['holding.verifying', 'lost', 'joining']);
});

test('LOST and EXPIRED end the role; CLOSED leaves', () => {
  const a = scripted('lock');
  a.send({ type: 'WAIT' }, { type: 'ACQUIRED' });
  const signal = a.p.signal!;
  a.send({ type: 'LOST', reason: 'expired' });
  assert.equal(a.p.phase, 'lost');
  assert.equal((signal.reason as RoleLostError).reason, 'expired');
  assert.equal(a.p.status.connected, false);
  const b = scripted('lock');
  b.send({ type: 'WAIT' }, { type: 'CLOSED' });
  assert.equal(b.p.phase, 'left');
  assert.equal(b.p.status.lossReason, 'closed');
});

test('the wait timeout is a named delay on the clock and keeps running while suspended', () => {
  const clock = new VirtualClock();
  const { p, log, send } = scripted('lock', false, clock);
  send({ type: 'WAIT', timeout: 100 });
  clock.advance(60);
  send({ type: 'SUSPENDED' });
  clock.advance(39);
  assert.equal(p.phase, 'waiting');
  clock.advance(1);
  assert.equal(p.phase, 'leaving');
  assert.equal(p.status.timedOut, true);
  assert.deepEqual(log, ['waiting.queued', 'waiting.suspended', 'timedOut:100', 'leaving']);
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('a member that times out or withdraws stays in the group', () => {
  const clock = new VirtualClock();
  const { p, log, send } = scripted('statusBoard', true, clock);
  send({ type: 'JOIN' }, { type: 'JOINED', node: '/s/members/A' }, { type: 'WAIT', timeout: 50 });
  clock.advance(50);
  assert.equal(p.phase, 'releasing');
  send({ type: 'RELEASED' });
  assert.equal(p.status.substate, 'ready');
  send({ type: 'WAIT' }, { type: 'WITHDRAW' }, { type: 'RELEASED' });
  send({ type: 'WAIT' }, { type: 'ACQUIRED' }, { type: 'RELEASE' }, { type: 'RELEASED' });
  assert.deepEqual(log, [
    'joining',
    'member.ready',
    'waiting.queued',
    'timedOut:50',
    'releasing',
    'member.ready',
    'waiting.queued',
    'releasing',
    'member.ready',
    'waiting.queued',
    'granted#1',
    'holding.active',
    'revoked:released',
    'releasing',
    'member.ready',
  ]);
  assert.equal(clock.pending, 0);
});

test('pause and resume follow whoever syncs, and suspension interrupts them', () => {
  const { p, log, send } = scripted('statusBoard', true);
  send({ type: 'JOIN' }, { type: 'JOINED' }, { type: 'PAUSE', by: 'A' });
  assert.equal(p.status.pausedBy, 'A');
  send({ type: 'PAUSE', by: 'B' });
  assert.equal(p.status.pausedBy, 'B');
  send({ type: 'RESUME' }, { type: 'PAUSE', by: 'C' }, { type: 'SUSPENDED' }, { type: 'RECONNECTED' }, { type: 'VERIFIED' });
  assert.deepEqual(log, ['joining', 'member.ready', 'member.paused', 'member.ready', 'member.paused', 'member.suspended', 'member.verifying', 'member.ready']);
});

test('a node created while disconnected is verified before it is trusted', () => {
  const { p, send } = scripted('serviceInstance', true);
  send({ type: 'JOIN' }, { type: 'SUSPENDED' }, { type: 'JOINED', node: '/svc/x' });
  assert.equal(p.status.substate, 'suspended');
  send({ type: 'RECONNECTED' }, { type: 'VERIFIED' });
  assert.equal(p.status.substate, 'ready');
  // Acquired while suspended: held only after verification.
  const q = scripted('lock');
  q.send({ type: 'WAIT' }, { type: 'SUSPENDED' }, { type: 'ACQUIRED', token: 3 });
  assert.equal(q.p.status.phase, 'holding');
  assert.equal(q.p.holding, false);
  assert.equal(q.p.signal, undefined, 'no term before verification');
  q.send({ type: 'RECONNECTED' }, { type: 'VERIFIED' });
  assert.ok(q.p.holding, 'holding after verification');
});

test('waitFor resolves on the first matching state and honours its signal', async () => {
  const { p, send } = scripted('lock');
  const reached = p.waitFor((s) => s.phase === 'holding');
  send({ type: 'WAIT' }, { type: 'ACQUIRED' });
  assert.equal((await reached).phase, 'holding');
  const controller = new AbortController();
  const never = p.waitFor((s) => s.phase === 'idle', controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(never, /stop/);
  assert.equal(p.listenerCount('state'), 1, 'only the log listener is left');
});

test('the inspector sees the participant machine', () => {
  const events: InspectionEvent[] = [];
  const p = new Participant({ recipe: 'doubleBarrier', name: 'm1', clock: new VirtualClock(), inspect: (e) => events.push(e) });
  p.send({ type: 'JOIN' });
  const snapshots = events.filter((e) => e.type === '@xstate.snapshot');
  assert.ok(snapshots.length >= 2, 'snapshots inspected');
  assert.ok(events.some((e) => e.type === '@xstate.event' && (e as { event: { type: string } }).event.type === 'JOIN'), 'JOIN inspected');
  p.stop();
});
