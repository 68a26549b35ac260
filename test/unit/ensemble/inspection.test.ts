/**
 * The lifecycle is visible through XState's inspector: a server goes LOOKING → LEADING /
 * FOLLOWING, each role passes discovery → synchronization → broadcast, and after the
 * leader dies its followers go back to LOOKING and through the phases again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectionEvent } from 'xstate';
import { settle, virtualEnsemble, waitAllServing, waitFor } from './helpers.js';

/** Per machine id ('peer', 'leader', 'follower', ...), the sequence of top-level states seen. */
class Recorder {
  readonly seen = new Map<string, string[]>();
  readonly observer = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.snapshot') return;
    const logic = (event.actorRef as unknown as { logic: { id?: string } }).logic;
    const snapshot = event.snapshot as { value?: unknown };
    if (logic.id === undefined || snapshot.value === undefined) return;
    const value = typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value as object)[0]!;
    const list = this.seen.get(logic.id) ?? [];
    if (list.at(-1) !== value) list.push(value);
    this.seen.set(logic.id, list);
  };
}

test('inspection shows LOOKING → role and discovery → synchronization → broadcast', async () => {
  const recorders = new Map<number, Recorder>();
  const { ensemble, clock } = virtualEnsemble(
    {
      servers: 3,
      inspectServer: (id) => {
        const r = new Recorder();
        recorders.set(id, r);
        return r.observer;
      },
    },
    81,
  );
  waitAllServing(ensemble, clock);
  const leader = ensemble.leader()!;
  const follower = ensemble.servers.find((s) => s !== leader)!;

  assert.deepEqual(recorders.get(leader.id)!.seen.get('peer'), ['LOOKING', 'LEADING']);
  assert.deepEqual(recorders.get(leader.id)!.seen.get('leader'), ['discovery', 'synchronization', 'broadcast']);
  assert.deepEqual(recorders.get(follower.id)!.seen.get('peer'), ['LOOKING', 'FOLLOWING']);
  assert.deepEqual(recorders.get(follower.id)!.seen.get('follower'), ['discovery', 'synchronization', 'broadcast']);
  assert.ok(recorders.get(follower.id)!.seen.get('election')!.length > 0, 'the election machine is inspectable too');

  leader.stop();
  waitFor(clock, () => ensemble.leader() !== undefined);
  settle(clock, 100);
  const peerStates = recorders.get(follower.id)!.seen.get('peer')!;
  assert.deepEqual(peerStates.slice(0, 3), ['LOOKING', 'FOLLOWING', 'LOOKING']);
  assert.ok(['LEADING', 'FOLLOWING'].includes(peerStates[3]!));
  await ensemble.close();
});
