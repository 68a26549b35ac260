/**
 * The machines are inspectable: named, built with setup(), and exportable as
 * `createMachine({...})` text that recreates the same state structure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMachine } from 'xstate';
import { machineDefinitions, machines } from '../../../src/machines/definitions.js';

test('machineDefinitions() covers every machine, each as createMachine text', () => {
  const definitions = machineDefinitions();
  assert.deepEqual(Object.keys(definitions).sort(), ['election', 'follower', 'leader', 'observer', 'peer']);
  for (const [name, text] of Object.entries(definitions)) {
    assert.match(text, /^createMachine\(\{/, name);
    assert.ok(!text.includes('=>'), `${name}: a function leaked into the definition`);
  }
});

test('each definition evaluates to a machine with the same id, states, transitions and named actions', () => {
  const definitions = machineDefinitions();
  for (const [name, text] of Object.entries(definitions)) {
    const rebuilt = new Function('createMachine', `return ${text};`)(createMachine) as ReturnType<typeof createMachine>;
    const original = machines[name]!;
    assert.equal(rebuilt.id, original.id);
    assert.deepEqual(stateIds(rebuilt.root), stateIds(original.root), name);
  }
  assert.match(definitions['peer']!, /"LOOKING"/);
  assert.match(definitions['leader']!, /"discovery"[\s\S]*"synchronization"[\s\S]*"broadcast"/);
  assert.match(definitions['follower']!, /"awaitingUpToDate"/);
});

interface NodeLike {
  id: string;
  states: Record<string, NodeLike>;
}

function stateIds(node: NodeLike): string[] {
  return [node.id, ...Object.values(node.states).flatMap(stateIds)].sort();
}
