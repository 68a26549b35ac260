import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZooCfgError, parseServerLine, parseZooCfg, readMyId } from '../../../src/cli/zoo-cfg.js';

const SAMPLE = `# The number of milliseconds of each tick
tickTime=2000
initLimit=10
syncLimit=5
dataDir=/var/lib/zookeeper
clientPort=2181
maxClientCnxns=0
4lw.commands.whitelist=srvr, ruok,mntr
admin.enableServer=false
server.1=zk1.example:2888:3888
server.2=zk2.example:2888:3888:participant;2182
server.3=[::1]:2889:3889:observer;127.0.0.1:2183
autopurge.purgeInterval=1
quorumListenOnAllIPs=true
`;

test('reads the settings of an unmodified zoo.cfg', () => {
  const cfg = parseZooCfg(SAMPLE);
  assert.equal(cfg.tickTime, 2000);
  assert.equal(cfg.initLimit, 10);
  assert.equal(cfg.syncLimit, 5);
  assert.equal(cfg.dataDir, '/var/lib/zookeeper');
  assert.equal(cfg.clientPort, 2181);
  assert.equal(cfg.maxClientCnxns, 0);
  assert.deepEqual(cfg.fourLetterWords, ['srvr', 'ruok', 'mntr']);
  assert.deepEqual(cfg.servers, [
    { id: 1, host: 'zk1.example', quorumPort: 2888, electionPort: 3888, role: 'participant' },
    { id: 2, host: 'zk2.example', quorumPort: 2888, electionPort: 3888, role: 'participant', clientPort: 2182 },
    { id: 3, host: '::1', quorumPort: 2889, electionPort: 3889, role: 'observer', clientAddress: '127.0.0.1', clientPort: 2183 },
  ]);
});

test('options zoostate does not support are reported by name', () => {
  assert.deepEqual(parseZooCfg(SAMPLE).unsupported, ['quorumListenOnAllIPs']);
});

test('defaults follow ZooKeeper: whitelist unset means every word for zoostate', () => {
  const cfg = parseZooCfg('dataDir=/tmp/x\n');
  assert.equal(cfg.tickTime, 2000);
  assert.equal(cfg.maxClientCnxns, 60);
  assert.equal(cfg.fourLetterWords, '*');
  assert.deepEqual(cfg.servers, []);
});

test('reconfig, read-only mode and the super user are read from zoo.cfg (Java system properties as keys)', () => {
  const cfg = parseZooCfg(
    'dataDir=/tmp/x\nreconfigEnabled=true\nreadonlymode.enabled=true\nzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n',
  );
  assert.deepEqual([cfg.reconfigEnabled, cfg.readOnlyMode, cfg.superDigest], [true, true, 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=']);
  assert.deepEqual(cfg.unsupported, []);
  const plain = parseZooCfg('dataDir=/tmp/x\n');
  assert.deepEqual([plain.reconfigEnabled, plain.readOnlyMode, plain.superDigest], [false, false, undefined]);
});

test('malformed lines and values are rejected with the key named', () => {
  assert.throws(() => parseZooCfg('tickTime=fast\n'), (e: unknown) => e instanceof ZooCfgError && /tickTime/.test(e.message));
  assert.throws(() => parseZooCfg('novalue\n'), /line 1/);
  assert.throws(() => parseServerLine(4, 'host:2888'), /server\.4/);
  assert.throws(() => parseServerLine(4, 'host:2888:3888:leader'), /unknown role/);
  assert.throws(() => parseServerLine(4, 'host:2888:99999'), /invalid port/);
});

test('myid is read from the data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoostate-myid-'));
  try {
    writeFileSync(join(dir, 'myid'), '3\n');
    assert.equal(readMyId(dir), 3);
    writeFileSync(join(dir, 'myid'), 'three');
    assert.throws(() => readMyId(dir), ZooCfgError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
