import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findProtectedChild, isUuid, parseProtectedName, protectedName, protectedPath, stripProtectedPrefix } from '../../../src/client/protected.js';

const uuid = '0bc63729-f67f-4c96-add6-4cb23d4166c0';

test('protected names use Curator\'s format and round-trip', () => {
  const name = protectedName(uuid, 'lock-');
  assert.equal(name, `_c_${uuid}-lock-`);
  assert.equal(protectedPath('/a/lock-', uuid), `/a/${name}`, 'the same format as the client helper');
  assert.deepEqual(parseProtectedName(`${name}0000000004`), { id: uuid, rest: 'lock-0000000004' });
  assert.equal(stripProtectedPrefix(`${name}0000000004`), 'lock-0000000004');
  assert.ok(isUuid(uuid) && !isUuid('not-a-uuid'), 'isUuid');
});

test('names that only look protected are left alone', () => {
  assert.equal(parseProtectedName('lock-0000000001'), undefined);
  assert.equal(parseProtectedName('_c_short-lock-0000000001'), undefined);
  assert.equal(parseProtectedName(`_c_${uuid}lock-0000000001`), undefined, 'no separator after the uuid');
  assert.equal(parseProtectedName(`_c_${uuid.replace('-', 'x')}-lock-0000000001`), undefined, 'not a uuid');
  assert.equal(stripProtectedPrefix('ready'), 'ready');
});

test('findProtectedChild finds the node of one create among others, case-insensitively', () => {
  const children = ['ready', `_c_2d63f702-599d-49f6-8ccf-d95059d4675e-lock-0000000001`, `_c_${uuid.toUpperCase()}-lock-0000000002`];
  assert.equal(findProtectedChild(children, uuid), children[2]);
  assert.equal(findProtectedChild(children, '11111111-2222-4333-8444-555555555555'), undefined);
});
