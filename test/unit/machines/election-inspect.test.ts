import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMachine, type AnyStateMachine } from 'xstate';
import { electionMachine, electionMachineDefinition } from '../../../src/machines/election.js';
import { ElectionCluster } from './election-harness.js';

const STATES = ['counting', 'voting', 'finalizing', 'decided'];

function stateIds(machine: AnyStateMachine): string[] {
  const ids: string[] = [];
  const walk = (node: AnyStateMachine['root']): void => {
    ids.push(node.id);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return ids.sort();
}

test('inspected, a 3-server election reads like the protocol: voting → finalizing → decided', async () => {
  const cluster = new ElectionCluster([{ id: 1 }, { id: 2 }, { id: 3 }]);
  cluster.startAll({ inspect: true });
  assert.ok(cluster.runUntilDecided());
  for (const id of [1, 2, 3]) assert.deepEqual(cluster.server(id).states, ['voting', 'finalizing', 'decided'], `server ${id}`);
  await cluster.close();
});

test('inspected, a better late vote sends a finalizing server back to voting', async () => {
  const cluster = new ElectionCluster([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5, lastZxid: 9 }]);
  for (const id of [1, 2, 3]) cluster.server(id).start({ inspect: true });
  cluster.clock.advance(10); // 1, 2 and 3 (a quorum of 5) agree on 3 and are finalizing
  assert.equal(cluster.server(1).actor!.getSnapshot().value, 'finalizing');
  cluster.server(5).start({ inspect: true });
  assert.ok(cluster.runUntilDecided([1, 2, 3, 5]));
  assert.equal(cluster.server(1).result!.leader, 5);
  assert.deepEqual(cluster.server(1).states, ['voting', 'finalizing', 'voting', 'finalizing', 'decided']);
  await cluster.close();
});

test('a lone voter finalizes at once; a minority stays in voting', async () => {
  const single = new ElectionCluster([{ id: 1 }]);
  single.startAll({ inspect: true });
  assert.ok(single.runUntilDecided());
  assert.deepEqual(single.server(1).states, ['finalizing', 'decided']);
  await single.close();
  const minority = new ElectionCluster([{ id: 1 }, { id: 2 }, { id: 3 }]);
  minority.server(1).start({ inspect: true });
  minority.clock.advance(5000);
  assert.deepEqual(minority.server(1).states, ['voting']);
  await minority.close();
});

test('the definition is createMachine({...}) text that parses back into the same machine', () => {
  const text = electionMachineDefinition();
  assert.ok(text.startsWith('createMachine('));
  assert.ok(text.endsWith(')'));
  for (const name of [...STATES, 'finalizeWait', 'notificationTimeout', 'proposalHasQuorum', 'announceVote']) {
    assert.ok(text.includes(`"${name}"`), name);
  }
  const config = JSON.parse(text.slice('createMachine('.length, -1)) as Parameters<typeof createMachine>[0];
  const parsed = createMachine(config);
  assert.equal(parsed.id, 'election');
  assert.deepEqual(stateIds(parsed), stateIds(electionMachine));
  assert.deepEqual(stateIds(parsed), ['election', ...STATES.map((s) => `election.${s}`)].sort());
  assert.equal(parsed.states.decided!.type, 'final');
  assert.deepEqual(Object.keys(parsed.states.voting!.on), Object.keys(electionMachine.states.voting!.on));
});
