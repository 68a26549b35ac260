/**
 * The client's admin API: `getConfig` reads `/zookeeper/config` and `reconfig` changes
 * the membership, with ZooKeeper's answers for a disabled server, a non-super user and a
 * stale `fromConfig`. In-process ensemble, real time, kept short.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { startEnsemble } from '../../../src/server/ensemble.js';

const SUPER_DIGEST = `super:${createHash('sha1').update('super:test').digest('base64')}`;
const OBSERVER = 'server.100=127.0.0.1:1:2:observer;127.0.0.1:3';

function versionOf(config: Buffer | null): bigint {
  const line = config!.toString('utf8').split('\n').find((l) => l.startsWith('version='));
  return BigInt(`0x${line!.slice('version='.length)}`);
}

test('reconfig adds and removes an observer for the super user; getConfig follows it', async () => {
  const ensemble = await startEnsemble({ servers: 3, zab: { reconfigEnabled: true }, session: { superDigest: SUPER_DIGEST } });
  const admin = ensemble.client({ authInfo: [{ scheme: 'digest', auth: 'super:test' }] });
  const user = ensemble.client();
  try {
    const before = await admin.getConfig();
    assert.match(before.data!.toString(), /^server\.1=/m);
    const added = await admin.reconfig({ joining: OBSERVER });
    assert.ok(added.data!.toString().includes(OBSERVER), added.data!.toString());
    // Another session may be on a server that has not applied it yet: sync first, as
    // ZooKeeper requires for reading another client's write.
    await user.sync('/zookeeper/config');
    assert.deepEqual((await user.getConfig()).data, added.data, 'another session reads the new configuration');
    await assert.rejects(admin.reconfig({ leaving: '100', fromConfig: versionOf(added.data) + 1n }), { code: ErrorCode.BadVersion });
    await assert.rejects(user.reconfig({ leaving: '100' }), { code: ErrorCode.NoAuth });
    const removed = await admin.reconfig({ leaving: '100', fromConfig: versionOf(added.data) });
    assert.ok(!removed.data!.toString().includes('server.100='));
    assert.ok(versionOf(removed.data) > versionOf(added.data), 'each reconfig raises the version');
  } finally {
    await Promise.all([admin.close(), user.close()]);
    await ensemble.close();
  }
});

test('reconfig on a server without reconfigEnabled answers ReconfigDisabled', async () => {
  const ensemble = await startEnsemble({ servers: 3 });
  const client = ensemble.client();
  try {
    await assert.rejects(client.reconfig({ joining: OBSERVER }), { code: ErrorCode.ReconfigDisabled });
    assert.equal((await client.exists('/')) !== null, true, 'the session goes on');
  } finally {
    await client.close();
    await ensemble.close();
  }
});
