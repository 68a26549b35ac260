/**
 * The `zoostate` command as a child process: help texts, usage errors, and
 * `zoostate start --port 0` (free ports): the ready line, clients over TCP, observers,
 * durable data across restarts with --data-dir, and a clean exit on SIGTERM/SIGINT.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../../src/client/client.js';
import { START_HELP, parseStartArgs, startServing } from '../../../src/cli/start.js';
import { SERVER_HELP } from '../../../src/cli/server.js';
import { SHELL_HELP } from '../../../src/cli/shell/shell.js';
import { UsageError } from '../../../src/cli/args.js';
import { fourLetterWord } from '../frontend/harness.js';
import { ZoostateProcess, portOf, refused, runZoostate } from './support.js';

describe('help and usage', () => {
  test('every command has a complete --help', async () => {
    const top = await runZoostate(['--help']);
    assert.equal(top.code, 0);
    for (const word of ['zoostate start', 'zoostate server --config zoo.cfg', 'zoostate shell']) assert.ok(top.stdout.includes(word), word);
    const start = await runZoostate(['start', '--help']);
    assert.equal(start.code, 0);
    assert.equal(start.stdout, START_HELP);
    for (const flag of ['--servers', '--observers', '--port', '--data-dir', '--transport', 'ready 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183', 'SIGTERM']) {
      assert.ok(START_HELP.includes(flag), flag);
    }
    for (const word of ['--config', 'myid', 'zoostate.secret', 'ZOOSTATE_SECRET', '4lw.commands.whitelist', 'ready <clientPortAddress>:<clientPort>']) assert.ok(SERVER_HELP.includes(word), word);
    for (const word of ['-server', 'ls [-s] [-w] [-R] path', 'addWatch [-m mode] path', 'deleteall']) assert.ok(SHELL_HELP.includes(word), word);
  });

  test('unknown commands and bad options are usage errors (exit 2)', async () => {
    const unknown = await runZoostate(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const bad = await runZoostate(['start', '--servers', 'three']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--servers needs an integer, got 'three'/);
  });

  test('parseStartArgs: defaults are the documented contract', () => {
    const s = parseStartArgs([], {})!;
    assert.deepEqual(
      { servers: s.servers, observers: s.observers, port: s.port, host: s.host, transport: s.transport, whitelist: s.whitelist, maxClientCnxns: s.maxClientCnxns },
      { servers: 3, observers: 0, port: 2181, host: '127.0.0.1', transport: 'inproc', whitelist: '*', maxClientCnxns: 60 },
    );
    assert.equal(parseStartArgs(['--help']), undefined);
    assert.equal(parseStartArgs(['--transport=tcp', '--secret', 's'], {})!.transport, 'tcp');
    assert.equal(parseStartArgs([], { ZOOSTATE_SECRET: 'env' })!.secret, 'env');
    assert.throws(() => parseStartArgs(['--transport', 'pigeon']), UsageError);
    assert.throws(() => parseStartArgs(['--port', '65535', '--servers', '3']), /no room/);
    assert.throws(() => parseStartArgs(['--bogus']), /unknown option --bogus/);
    const admin = parseStartArgs(['--reconfig', '--super-digest', 'super:x', '--read-only'], {})!;
    assert.deepEqual([admin.reconfig, admin.superDigest, admin.readOnly], [true, 'super:x', true]);
    assert.deepEqual([s.reconfig, s.superDigest, s.readOnly], [false, undefined, false]);
  });

  test('--reconfig with --super-digest: the super user changes the membership over the wire', async () => {
    const digest = `super:${createHash('sha1').update('super:test').digest('base64')}`;
    const started = await startServing(parseStartArgs(['--port', '0', '--quiet', '--reconfig', '--super-digest', digest], {})!);
    const client = createClient(started.connectString, { sessionTimeout: 10_000, authInfo: [{ scheme: 'digest', auth: 'super:test' }] });
    try {
      const joining = 'server.9=127.0.0.1:1:2:observer;127.0.0.1:3';
      const { data } = await client.reconfig({ joining });
      assert.ok(data!.toString().includes(joining));
    } finally {
      await client.close();
      await started.close();
    }
  });
});

describe('zoostate start', () => {
  test('--port 0: ready line, clients, four-letter words, clean exit on SIGTERM', async () => {
    const p = new ZoostateProcess(['start', '--port', '0', '--quiet']);
    try {
      const addresses = (await p.ready()).split(',');
      assert.equal(addresses.length, 3);
      assert.equal(p.stdout, `ready ${addresses.join(',')}\n`, 'exactly one line');
      for (const a of addresses) assert.equal(await fourLetterWord(portOf(a), 'ruok'), 'imok');
      const client = createClient(addresses.join(','), { sessionTimeout: 10_000 });
      await client.waitUntilConnected();
      await client.create('/from-test', 'hi');
      assert.equal((await client.getData('/from-test')).data?.toString(), 'hi');
      await client.close();
      assert.equal(await p.stop('SIGTERM'), 0);
      for (const a of addresses) assert.ok(await refused(portOf(a)), `${a} closed`);
    } finally {
      await p.stop('SIGKILL');
    }
  });

  test('--observers and --data-dir: observer mode, data kept across a restart, SIGINT exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zoostate-start-'));
    try {
      const first = new ZoostateProcess(['start', '--port', '0', '--servers', '1', '--observers', '1', '--data-dir', dir, '--quiet']);
      try {
        const addresses = (await first.ready()).split(',');
        assert.equal(addresses.length, 2);
        const modes = await Promise.all(addresses.map(async (a) => /Mode: (\w+)/.exec(await fourLetterWord(portOf(a), 'srvr'))?.[1]));
        assert.deepEqual(modes, ['leader', 'observer']);
        const client = createClient(addresses[1]!, { sessionTimeout: 10_000 });
        await client.waitUntilConnected();
        await client.create('/durable', 'kept');
        await client.close();
        assert.equal(await first.stop('SIGINT'), 0);
      } finally {
        await first.stop('SIGKILL');
      }
      const second = new ZoostateProcess(['start', '--port', '0', '--servers', '1', '--observers', '1', '--data-dir', dir, '--quiet']);
      try {
        const addresses = (await second.ready()).split(',');
        const client = createClient(addresses[0]!, { sessionTimeout: 10_000 });
        await client.waitUntilConnected();
        assert.equal((await client.getData('/durable')).data?.toString(), 'kept');
        await client.close();
        assert.equal(await second.stop('SIGTERM'), 0);
      } finally {
        await second.stop('SIGKILL');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
