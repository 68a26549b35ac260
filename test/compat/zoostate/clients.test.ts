/**
 * Other ZooKeeper clients against `zoostate start` (a child process, 3 servers on free
 * ports): node-zookeeper-client, kazoo (Debian's python3-kazoo), the Java zkCli.sh and
 * the C client's cli_mt each create, read, watch and delete. Run with
 * `npm run test:compat`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import zookeeper from 'node-zookeeper-client';
import type { Event } from 'node-zookeeper-client';
import { ZoostateProcess } from '../../unit/cli/support.js';
import { runProcess, startProcess, uniquePath } from '../clients/support.js';

const PYTHON = '/usr/bin/python3';
const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const CLI_MT = '/usr/lib/zookeeper/bin/cli_mt';

const KAZOO_SCRIPT = `
import sys, threading
from kazoo.client import KazooClient
hosts, path = sys.argv[1], sys.argv[2]
zk = KazooClient(hosts=hosts, timeout=10.0)
zk.start(timeout=20)
print("created", zk.create(path, b"v1"))
data, stat = zk.get(path)
print("read", data.decode(), stat.version)
fired = threading.Event()
events = []
def watcher(event):
    events.append(event)
    fired.set()
zk.get(path, watch=watcher)
zk.set(path, b"v2")
assert fired.wait(10), "no watch event"
print("event", events[0].type, events[0].path)
zk.delete(path)
print("exists", zk.exists(path))
zk.stop()
zk.close()
`;

describe('real clients against zoostate start', () => {
  let server: ZoostateProcess;
  let addresses: string[];

  before(async () => {
    server = new ZoostateProcess(['start', '--port', '0', '--quiet']);
    addresses = (await server.ready()).split(',');
  });

  after(async () => {
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  test('node-zookeeper-client: create, read, watch, delete', async () => {
    const client = zookeeper.createClient(addresses.join(','), { sessionTimeout: 10_000 });
    await new Promise<void>((resolve) => {
      client.once('connected', () => resolve());
      client.connect();
    });
    const call = <T>(fn: (cb: (error: unknown, result: T) => void) => void): Promise<T> =>
      new Promise((resolve, reject) => fn((error, result) => (error ? reject(error) : resolve(result))));
    try {
      const path = uniquePath('nzc');
      assert.equal(await call<string>((cb) => client.create(path, Buffer.from('v1'), cb)), path);
      let fired!: (event: Event) => void;
      const event = new Promise<Event>((resolve) => (fired = resolve));
      const data = await call<Buffer>((cb) => client.getData(path, (e) => fired(e), cb));
      assert.equal(data.toString(), 'v1');
      await call((cb) => client.setData(path, Buffer.from('v2'), -1, (error, stat) => cb(error, stat)));
      const e = await event;
      assert.equal(e.getName(), 'NODE_DATA_CHANGED');
      assert.equal(e.getPath(), path);
      await call((cb) => client.remove(path, -1, (error) => cb(error, undefined)));
      assert.equal(await call((cb) => client.exists(path, cb)), null);
    } finally {
      client.close();
    }
  });

  test('kazoo: create, read, watch, delete', async () => {
    const path = uniquePath('kazoo');
    const result = await runProcess(PYTHON, ['-c', KAZOO_SCRIPT, addresses.join(','), path], '', { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `created ${path}\nread v1 0\nevent CHANGED ${path}\nexists None\n`);
  });

  test('zkCli.sh: create, read, watch, delete', async () => {
    const path = uniquePath('zkcli');
    const script = [`create ${path} v1`, `get -w ${path}`, `set ${path} v2`, `get ${path}`, `delete ${path}`, `stat ${path}`, 'quit'].join('\n') + '\n';
    const result = await runProcess(ZKCLI, ['-server', addresses.join(',')], script, { mergeStderr: true, timeoutMs: 60_000 });
    const out = result.stdout;
    assert.match(out, new RegExp(`Created ${path}\\n`));
    assert.match(out, /\nv1\n/);
    assert.match(out, new RegExp(`WatchedEvent state:SyncConnected type:NodeDataChanged path:${path}\\n`));
    assert.match(out, /\nv2\n/);
    assert.match(out, new RegExp(`Node does not exist: ${path}\\n`));
  });

  test('cli_mt (C client): create, read, watch, delete', async () => {
    const path = uniquePath('climt');
    const a = startProcess(CLI_MT, [addresses[0]!], { mergeStderr: true, timeoutMs: 60_000 });
    const b = startProcess(CLI_MT, [addresses[1]!], { mergeStderr: true, timeoutMs: 60_000 });
    try {
      await a.expect(/Watcher SESSION_EVENT state = CONNECTED_STATE\n/);
      await b.expect(/Watcher SESSION_EVENT state = CONNECTED_STATE\n/);
      a.write(`create ${path}\n`);
      await a.expect(new RegExp(`\\[${path}\\]: rc = 0\\n\\tname = ${path}\\n`));
      a.write(`get ${path}\n`);
      await a.expect(new RegExp(`${path}: rc = 0\\n value_len = 3\\nnew\\n`));
      b.write(`set ${path} changed\n`);
      await a.expect(new RegExp(`Watcher CHANGED_EVENT state = CONNECTED_STATE for path ${path}\\n`));
      b.write(`delete ${path}\n`);
      await b.expect(new RegExp(`${path}: rc = 0\\n`));
      a.write(`get ${path}\n`);
      await a.expect(new RegExp(`${path}: rc = -101\\n`));
      a.write('quit\n');
      b.write('quit\n');
      assert.equal((await a.exited).code, 0);
      assert.equal((await b.exited).code, 0);
    } finally {
      a.kill();
      b.kill();
    }
  });
});
