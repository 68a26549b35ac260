/**
 * `zoostate server --config zoo.cfg` × 3 processes forming an ensemble over TCP on free
 * ports, from unmodified zoo.cfg syntax (myid in dataDir): ready lines, a client across
 * them, unsupported options reported by name, the leader killed, clean exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../../src/client/client.js';
import { planServer } from '../../../src/cli/server.js';
import { parseZooCfg, ZooCfgError } from '../../../src/cli/zoo-cfg.js';
import { fourLetterWord } from '../frontend/harness.js';
import { freePort } from '../../support/free-port.js';
import { ZoostateProcess } from './support.js';

const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));

test('planServer: client address from the server line or clientPort, ready host, storage under dataDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoostate-plan-'));
  try {
    writeFileSync(join(dir, 'myid'), '2\n');
    const cfg = parseZooCfg(`dataDir=${dir}\nclientPort=2181\nserver.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888;2182\nzoostate.secret=s3\n`);
    const plan = planServer(cfg, { env: {} });
    assert.equal(plan.myid, 2);
    assert.equal(plan.clientPort, 2182);
    assert.equal(plan.clientHost, '0.0.0.0');
    assert.equal(plan.readyHost, '10.0.0.2');
    assert.equal(plan.secret, 's3');
    assert.equal(plan.storageDir, join(dir, 'zoostate'));
    assert.equal(planServer(cfg, { secret: 'flag', env: {} }).secret, 'flag');
    assert.equal(planServer(cfg, { memory: true, env: {} }).storageDir, undefined);
    const standalone = planServer(parseZooCfg('clientPort=2200\nclientPortAddress=127.0.0.1\n'), { env: { ZOOSTATE_SECRET: 'env' } });
    assert.equal(standalone.standalone, true);
    assert.equal(standalone.readyHost, '127.0.0.1');
    assert.equal(standalone.secret, 'env');
    assert.throws(() => planServer(parseZooCfg('server.1=a:1:2\n')), ZooCfgError);
    assert.throws(() => planServer(parseZooCfg('tickTime=100\n')), /no client port/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('three zoostate server processes form an ensemble and survive losing their leader', async () => {
  const root = mkdtempSync(join(tmpdir(), 'zoostate-servers-'));
  const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const processes: ZoostateProcess[] = [];
  try {
    const members = [1, 2, 3].map((id) => `server.${id}=127.0.0.1:${ports[id * 3 - 2]}:${ports[id * 3 - 1]};127.0.0.1:${ports[id * 3 - 3]}`);
    for (const id of [1, 2, 3]) {
      const dataDir = join(root, `zk${id}`);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'myid'), `${id}\n`);
      const cfg = join(root, `zoo${id}.cfg`);
      writeFileSync(
        cfg,
        ['# an unmodified ZooKeeper zoo.cfg', 'tickTime=100', 'initLimit=20', 'syncLimit=10', `dataDir=${dataDir}`, 'maxClientCnxns=0', '4lw.commands.whitelist=*', 'quorumListenOnAllIPs=false', 'zoostate.secret=test-secret', ...members].join('\n') + '\n',
      );
      processes.push(new ZoostateProcess(['server', '--config', cfg]));
    }
    const addresses = await Promise.all(processes.map((p) => p.ready()));
    assert.deepEqual(addresses, [0, 1, 2].map((i) => `127.0.0.1:${ports[i * 3]}`));
    for (const p of processes) assert.match(p.stderr, /unsupported option 'quorumListenOnAllIPs' \(ignored\)/);

    const client = createClient(addresses.join(','), { sessionTimeout: 10_000, reconnectDelay: 20, spinDelay: 50 });
    client.on('error', () => {});
    await client.waitUntilConnected();
    await client.create('/multi-process', 'v1');
    const modes = await Promise.all(addresses.map(async (a) => /Mode: (\w+)/.exec(await fourLetterWord(portOf(a), 'srvr'))?.[1]));
    assert.deepEqual([...modes].sort(), ['follower', 'follower', 'leader']);
    assert.match(await fourLetterWord(portOf(addresses[0]!), 'conf'), new RegExp(`quorumPort=${ports[1]}\\n`));

    const leader = modes.indexOf('leader');
    assert.equal(await processes[leader]!.stop('SIGKILL'), 'SIGKILL');
    const rest = [0, 1, 2].filter((i) => i !== leader);
    let newModes: (string | undefined)[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      newModes = await Promise.all(rest.map(async (i) => /Mode: (\w+)/.exec(await fourLetterWord(portOf(addresses[i]!), 'srvr'))?.[1]));
      if ([...newModes].sort().join() === 'follower,leader') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual([...newModes].sort(), ['follower', 'leader']);
    await client.setData('/multi-process', 'v2');
    assert.equal((await client.getData('/multi-process')).data?.toString(), 'v2');
    await client.close();
    for (const i of rest) assert.equal(await processes[i]!.stop('SIGTERM'), 0);
  } finally {
    for (const p of processes) await p.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});
