/**
 * The zkCli-style shell: its formats and parsers, every command against a zoostate
 * ensemble over TCP (output compared with zkCli's), watch events as they arrive, and the
 * `zoostate shell` process with a one-shot command and with commands on stdin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Perms } from '../../../src/protocol/constants.js';
import { NoNodeError, NodeExistsError, BadVersionError, NotEmptyError, ConnectionLossError } from '../../../src/protocol/errors.js';
import { startEnsemble, type Ensemble } from '../../../src/server/ensemble.js';
import { serveEnsemble, type EnsemblePorts } from '../../../src/server/serve.js';
import { Shell, parseShellArgs } from '../../../src/cli/shell/shell.js';
import { COMMANDS_BY_NAME, helpText, parseCommandArgs, tokenize } from '../../../src/cli/shell/commands.js';
import { AclParseError, errorMessage, formatAcl, formatStat, formatWatchEvent, javaLocalDate, parseAcl, permString } from '../../../src/cli/shell/format.js';
import { eventually } from '../frontend/harness.js';
import { runZoostate } from './support.js';

describe('formats and parsing', () => {
  test('permissions, ACLs and the Stat block as zkCli prints them', () => {
    assert.equal(permString(Perms.ALL), 'cdrwa');
    assert.equal(permString(Perms.READ | Perms.ADMIN), 'ra');
    assert.deepEqual(parseAcl('world:anyone:cdrwa,digest:u:abc=:r'), [
      { perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } },
      { perms: Perms.READ, id: { scheme: 'digest', id: 'u:abc=' } },
    ]);
    assert.throws(() => parseAcl('world:anyone:x'), AclParseError);
    assert.throws(() => parseAcl('nonsense'), AclParseError);
    assert.equal(formatAcl([{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }]), "'world,'anyone\n: cdrwa\n");
    const stat = { czxid: 2, mzxid: 2, ctime: 0, mtime: 0, version: 0, cversion: 2, aversion: 0, ephemeralOwner: 0n, dataLength: 5, numChildren: 2, pzxid: 5 };
    const lines = formatStat(stat).split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' = ')[0]),
      ['cZxid', 'ctime', 'mZxid', 'mtime', 'pZxid', 'cversion', 'dataVersion', 'aclVersion', 'ephemeralOwner', 'dataLength', 'numChildren', ''],
    );
    assert.equal(lines[0], 'cZxid = 0x2');
    assert.equal(lines[8], 'ephemeralOwner = 0x0');
    assert.match(javaLocalDate(0), /^\w{3} \w{3} \d\d \d\d:\d\d:\d\d \S+ \d{4}$/);
    assert.equal(formatWatchEvent({ state: 'SyncConnected', type: 'NodeDataChanged', path: '/x' }), '\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/x\n');
    assert.equal(formatWatchEvent({ state: 'SyncConnected', type: 'None', path: '' }), '\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n');
  });

  test("zkCli's error sentences", () => {
    assert.equal(errorMessage(new NoNodeError('/a')), 'Node does not exist: /a');
    assert.equal(errorMessage(new NodeExistsError('/a')), 'Node already exists: /a');
    assert.equal(errorMessage(new BadVersionError('/a')), 'version No is not valid : /a');
    assert.equal(errorMessage(new NotEmptyError('/a')), 'Node not empty: /a');
    assert.equal(errorMessage(new ConnectionLossError('/a')), 'KeeperErrorCode = ConnectionLoss for /a');
  });

  test('command lines: quotes, flags anywhere, usage errors', () => {
    assert.deepEqual(tokenize(`create /a "two words" 'x y'`), ['create', '/a', 'two words', 'x y']);
    const create = COMMANDS_BY_NAME.get('create')!;
    const parsed = parseCommandArgs(create, ['-e', '/a', '-t', '100', 'data']);
    assert.deepEqual([...parsed.flags], [['e', true], ['t', '100']]);
    assert.deepEqual(parsed.args, ['/a', 'data']);
    assert.throws(() => parseCommandArgs(COMMANDS_BY_NAME.get('ls')!, []), /ls \[-s\] \[-w\] \[-R\] path/);
    assert.match(helpText(), /\n\tls \[-s\] \[-w\] \[-R\] path\n/);
    assert.deepEqual(parseShellArgs(['-server', 'h:1', '-timeout', '5000', 'get', '-s', '/a']), { options: { server: 'h:1', sessionTimeout: 5000 }, command: ['get', '-s', '/a'], help: false });
  });
});

describe('the shell against a zoostate ensemble', () => {
  let ensemble: Ensemble;
  let ports: EnsemblePorts;
  let shell: Shell;
  let out = '';
  let err = '';
  const run = async (line: string): Promise<{ out: string; err: string; ok: boolean }> => {
    out = '';
    err = '';
    const ok = await shell.execute(line);
    return { out, err, ok };
  };

  before(async () => {
    ensemble = await startEnsemble({ servers: 1 });
    ports = await serveEnsemble(ensemble, { port: 0 });
    shell = new Shell({ server: ports.connectString, io: { out: (t) => (out += t), err: (t) => (err += t) }, requestTimeout: 5000 });
    await shell.client!.waitUntilConnected();
  });

  after(async () => {
    await shell.close();
    await ports.close();
    await ensemble.close();
  });

  test('create, get, set, stat, ls, delete with zkCli output', async () => {
    assert.deepEqual(await run('create /cap hello'), { out: '', err: 'Created /cap\n', ok: true });
    assert.deepEqual(await run('create /cap hello'), { out: '', err: 'Node already exists: /cap\n', ok: false });
    assert.equal((await run('create -e /cap/eph')).err, 'Created /cap/eph\n');
    assert.equal((await run('create -s /cap/seq- s')).err, 'Created /cap/seq-0000000001\n');
    assert.equal((await run('get /cap')).out, 'hello\n');
    assert.equal((await run('get /cap/eph')).out, 'null\n');
    const withStat = await run('get -s /cap');
    assert.match(withStat.out, /^hello\ncZxid = 0x[0-9a-f]+\nctime = .*\nmZxid = .*\nmtime = .*\npZxid = .*\ncversion = 2\ndataVersion = 0\naclVersion = 0\nephemeralOwner = 0x0\ndataLength = 5\nnumChildren = 2\n$/);
    assert.equal((await run('ls /cap')).out, '[eph, seq-0000000001]\n');
    assert.match((await run('ls -s /cap')).out, /^\[eph, seq-0000000001\]\ncZxid = /);
    assert.equal((await run('ls -R /cap')).out, '/cap\n/cap/eph\n/cap/seq-0000000001\n');
    assert.deepEqual(await run('stat /nope'), { out: '', err: 'Node does not exist: /nope\n', ok: true });
    assert.equal((await run('get /nope')).err, 'Node does not exist: /nope\n');
    assert.equal((await run('set -v 99 /cap x')).err, 'version No is not valid : /cap\n');
    assert.match((await run('set -s /cap world')).out, /dataVersion = 1\n/);
    assert.equal((await run('delete /cap')).err, 'Node not empty: /cap\n');
    assert.equal((await run('getAllChildrenNumber /cap')).out, '2\n');
    assert.equal((await run('getEphemerals /cap')).out, '[/cap/eph]\n');
    assert.equal((await run('sync /cap')).out, 'Sync is OK\n');
    assert.deepEqual(await run('deleteall /cap'), { out: '', err: '', ok: true });
    assert.equal((await run('stat /cap')).err, 'Node does not exist: /cap\n');
  });

  test('modes: -c and -s/-e conflict, TTLs need extended types', async () => {
    assert.equal((await run('create -c -e /x')).err, '-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.\n');
    assert.equal((await run('create -t 100 -e /x')).err, 'TTLs cannot be used with Ephemeral znodes\n');
    assert.equal((await run('create -c /container')).err, 'Created /container\n');
    assert.equal((await run('create -t 1000 /ttl')).err, 'KeeperErrorCode = Unimplemented for /ttl\n');
    await run('delete /container');
  });

  test('ACLs and auth: getAcl, setAcl, addauth, whoami', async () => {
    await run('create /acl x');
    assert.equal((await run('getAcl /acl')).out, "'world,'anyone\n: cdrwa\n");
    assert.equal((await run('addauth digest u:p')).ok, true);
    assert.equal((await run('whoami')).out, 'Auth scheme: User\nip: 127.0.0.1\ndigest: u\n');
    assert.equal((await run('setAcl /acl auth::cdrwa')).ok, true);
    assert.match((await run('getAcl /acl')).out, /^'digest,'u:[A-Za-z0-9+/=]+\n: cdrwa\n$/);
    assert.equal((await run('setAcl /acl world:anyone:q')).err, 'Unknown perm type: q\n');
    await run('delete /acl');
  });

  test('watches print as they arrive: get -w, ls -w, addWatch; printwatches off silences them', async () => {
    await run('create /w a');
    await run('get -w /w');
    await run('ls -w /w');
    out = '';
    await shell.client!.setData('/w', 'b');
    await eventually(() => out.includes('type:NodeDataChanged path:/w'), 'the data watch');
    assert.equal(out, '\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/w\n');
    await run('addWatch /w');
    out = '';
    await shell.client!.create('/w/c', null);
    await eventually(() => out.includes('NodeCreated path:/w/c') && out.includes('NodeChildrenChanged path:/w'), 'child + recursive events');
    await run('printwatches off');
    assert.equal((await run('printwatches')).out, 'printwatches is off\n');
    out = '';
    await shell.client!.setData('/w/c', 'x');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(out, '');
    await run('printwatches on');
    assert.equal((await run('removewatches /w')).ok, true);
    await run('deleteall /w');
  });

  test('help, unknown commands, history and redo, usage lines', async () => {
    const unknown = await run('foo');
    assert.ok(unknown.out.endsWith('Command not found: Command not found foo\n'));
    assert.ok(unknown.out.includes('\tcreate [-s] [-e] [-c] [-t ttl] path [data] [acl]\n'));
    assert.equal((await run('ls')).err, 'ls [-s] [-w] [-R] path\n');
    await run('create /h one');
    const history = await run('history');
    assert.match(history.out, /\d+ - create \/h one\n\d+ - history\n$/);
    const index = /(\d+) - create \/h one/.exec(history.out)![1];
    assert.equal((await run(`redo ${index}`)).err, 'Node already exists: /h\n');
    assert.match((await run('version')).out, /^ZooKeeper CLI version: 3\.8\.0-zoostate-/);
    assert.match((await run('config')).out, /\n?/);
    await run('delete /h');
  });

  test('close, then Not connected; connect opens a new session', async () => {
    const closed = await run('close');
    assert.match(closed.out, /WatchedEvent state:Closed type:None path:null/);
    assert.equal((await run('ls /')).out, 'Not connected\n');
    await run(`connect ${ports.connectString}`);
    await shell.client!.waitUntilConnected();
    assert.match((await run('ls /')).out, /zookeeper/);
  });
});

describe('the zoostate shell process', () => {
  let ensemble: Ensemble;
  let ports: EnsemblePorts;
  before(async () => {
    ensemble = await startEnsemble({ servers: 1 });
    ports = await serveEnsemble(ensemble, { port: 0 });
  });
  after(async () => {
    await ports.close();
    await ensemble.close();
  });

  test('one command as arguments; exit status 1 when it fails', async () => {
    const created = await runZoostate(['shell', '-server', ports.connectString, 'create', '/oneshot', 'two words']);
    assert.equal(created.code, 0);
    assert.equal(created.stderr, 'Created /oneshot\n');
    const got = await runZoostate(['shell', '-server', ports.connectString, 'get', '/oneshot']);
    assert.equal(got.code, 0);
    assert.ok(got.stdout.endsWith('\ntwo words\n'));
    const missing = await runZoostate(['shell', '-server', ports.connectString, 'get', '/missing']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Node does not exist: /missing\n');
  });

  test('commands on stdin run in order; quit ends', async () => {
    const result = await runZoostate(['shell', '-server', ports.connectString], { input: 'create /piped 1\nset /piped 2\nget /piped\nquit\nget /piped\n' });
    assert.equal(result.code, 0);
    assert.equal(result.stderr, 'Created /piped\n');
    assert.match(result.stdout, /WatchedEvent state:SyncConnected type:None path:null\n2\n$/);
  });
});
