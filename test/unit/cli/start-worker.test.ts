/**
 * `zoostate start --transport worker` as a child process: one worker thread per server,
 * each with its own client port; the same ready line, clients over TCP, the same data
 * directory layout as the in-thread ensemble, and a clean exit on SIGTERM/SIGINT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../../src/client/client.js';
import { START_HELP, parseStartArgs } from '../../../src/cli/start.js';
import { fourLetterWord } from '../frontend/harness.js';
import { ZoostateProcess, portOf, refused } from './support.js';

test('--transport worker is documented and parsed', () => {
  assert.match(START_HELP, /worker +one worker thread per server/);
  assert.equal(parseStartArgs(['--transport', 'worker'], {})!.transport, 'worker');
});

test('zoostate start --transport worker: ready line, one leader, clients, clean exit on SIGTERM', async () => {
  const p = new ZoostateProcess(['start', '--transport', 'worker', '--port', '0', '--quiet']);
  try {
    const addresses = (await p.ready()).split(',');
    assert.equal(addresses.length, 3);
    assert.equal(p.stdout, `ready ${addresses.join(',')}\n`, 'exactly one line');
    const modes = await Promise.all(addresses.map(async (a) => /Mode: (\w+)/.exec(await fourLetterWord(portOf(a), 'srvr'))?.[1]));
    assert.deepEqual([...modes].sort(), ['follower', 'follower', 'leader']);
    const writer = createClient(addresses[0]!, { sessionTimeout: 10_000 });
    const reader = createClient(addresses[2]!, { sessionTimeout: 10_000 });
    await writer.create('/from-test', 'hi');
    await reader.sync('/from-test');
    assert.equal((await reader.getData('/from-test')).data?.toString(), 'hi');
    await Promise.all([writer.close(), reader.close()]);
    assert.equal(await p.stop('SIGTERM'), 0);
    assert.equal(p.stderr, '');
    for (const a of addresses) assert.ok(await refused(portOf(a)), `${a} closed`);
  } finally {
    await p.stop('SIGKILL');
  }
});

test('--data-dir: data written by the in-thread ensemble is served by the worker ensemble (same layout), SIGINT exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoostate-start-worker-'));
  const args = ['start', '--port', '0', '--servers', '1', '--observers', '1', '--data-dir', dir, '--quiet'];
  try {
    const first = new ZoostateProcess(args);
    try {
      const addresses = (await first.ready()).split(',');
      const client = createClient(addresses[0]!, { sessionTimeout: 10_000 });
      await client.create('/durable', 'kept');
      await client.close();
      assert.equal(await first.stop('SIGTERM'), 0);
    } finally {
      await first.stop('SIGKILL');
    }
    const second = new ZoostateProcess([...args, '--transport', 'worker']);
    try {
      const addresses = (await second.ready()).split(',');
      const modes = await Promise.all(addresses.map(async (a) => /Mode: (\w+)/.exec(await fourLetterWord(portOf(a), 'srvr'))?.[1]));
      assert.deepEqual(modes, ['leader', 'observer']);
      const client = createClient(addresses[1]!, { sessionTimeout: 10_000 });
      await client.sync('/');
      assert.equal((await client.getData('/durable')).data?.toString(), 'kept');
      await client.close();
      assert.equal(await second.stop('SIGINT'), 0);
    } finally {
      await second.stop('SIGKILL');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
