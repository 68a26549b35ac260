/**
 * The Java client's shell, `zkCli.sh -server host:port` (Debian's zookeeper 3.8.0),
 * against each compatibility target: commands on stdin (create in every mode, get,
 * set, stat, ls, delete, error messages), a `get -w` / `ls -w` watch fired by another
 * zkCli, and a command given as arguments. Its output is parsed and checked exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describeTargets, runProcess, startProcess, uniquePath, type RunningProcess } from './support.js';

const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

/** One item of a zkCli transcript. */
type Item =
  | { kind: 'line'; text: string }
  | { kind: 'stat'; stat: Record<string, string> }
  | { kind: 'watch'; state: string; type: string; path: string };

const STAT_KEYS = ['cZxid', 'ctime', 'mZxid', 'mtime', 'pZxid', 'cversion', 'dataVersion', 'aclVersion', 'ephemeralOwner', 'dataLength', 'numChildren'];
const NOISE = [/^SLF4J: /, /^Connecting to /, /^Welcome to ZooKeeper!$/, /^JLine support is (disabled|enabled)$/, /^WATCHER::$/, /^$/];

/** Split zkCli's merged stdout+stderr into results, stat blocks and watch events. */
function parseTranscript(text: string): Item[] {
  const items: Item[] = [];
  let stat: Record<string, string> | undefined;
  for (const line of text.split('\n').map((l) => l.replace(/\r$/, ''))) {
    const kv = /^(\w+) = (.*)$/.exec(line);
    if (kv !== null && STAT_KEYS.includes(kv[1]!)) {
      if (kv[1] === 'cZxid' || stat === undefined) {
        stat = {};
        items.push({ kind: 'stat', stat });
      }
      stat[kv[1]!] = kv[2]!;
      continue;
    }
    stat = undefined;
    const event = /^WatchedEvent state:(\w+) type:(\w+) path:(\S+)$/.exec(line);
    if (event !== null) items.push({ kind: 'watch', state: event[1]!, type: event[2]!, path: event[3]! });
    else if (!NOISE.some((n) => n.test(line))) items.push({ kind: 'line', text: line });
  }
  return items;
}

/** The target-independent part of a stat block, plus checks of the rest. */
function statSummary(stat: Record<string, string>): string {
  assert.deepEqual(Object.keys(stat), STAT_KEYS, 'stat prints every field in order');
  for (const key of ['cZxid', 'mZxid', 'pZxid']) assert.match(stat[key]!, /^0x[0-9a-f]+$/, key);
  for (const key of ['ctime', 'mtime']) assert.ok(!Number.isNaN(Date.parse(stat[key]!.replace(/ [A-Z]{3,4} (\d{4})$/, ' $1'))), `${key} ${stat[key]} is a date`);
  assert.ok(BigInt(stat['mZxid']!) >= BigInt(stat['cZxid']!), 'mZxid >= cZxid');
  const owner = stat['ephemeralOwner'] === '0x0' ? '0x0' : 'session';
  return `cversion=${stat['cversion']} dataVersion=${stat['dataVersion']} aclVersion=${stat['aclVersion']} ephemeralOwner=${owner} dataLength=${stat['dataLength']} numChildren=${stat['numChildren']}`;
}

/** Items as comparable strings (stat blocks summarized, connection events dropped). */
function summarize(items: Item[]): string[] {
  return items.flatMap((item) => {
    if (item.kind === 'line') return [item.text];
    if (item.kind === 'stat') return [`stat ${statSummary(item.stat)}`];
    return item.type === 'None' ? [] : [`event ${item.state} ${item.type} ${item.path}`];
  });
}

/** `[a, b]` as printed by `ls`, sorted. */
const children = (line: string): string[] =>
  line === '[]'
    ? []
    : line
        .replace(/^\[|\]$/g, '')
        .split(', ')
        .sort();

const zkCli = (server: string, args: string[] = []): RunningProcess => startProcess(ZKCLI, ['-server', server, ...args], { mergeStderr: true, timeoutMs: 60_000 });

describeTargets('zkCli.sh (Java client 3.8.0)', { servers: 1 }, (target) => {
  const server = (): string => target().servers[0]!;

  test('zkCli.sh is installed', () => {
    assert.ok(existsSync(ZKCLI), `${ZKCLI} missing: apt-get install zookeeper`);
  });

  test('create, get, set, stat, ls and delete from commands on stdin', async () => {
    const p = uniquePath('zkcli');
    const script = [
      `create ${p} v0`,
      `create -e ${p}/eph e`,
      `create -s ${p}/seq- s`,
      `get ${p}`,
      `set ${p} v1`,
      `get -s ${p}`,
      `ls ${p}`,
      `stat ${p}/eph`,
      `create ${p} again`,
      `set ${p} v2 -v 0`,
      `delete ${p}`,
      `delete ${p}/seq-0000000001`,
      `ls -s ${p}`,
      `get ${p}/nope`,
      `delete ${p}/eph`,
      `delete ${p}`,
      `ls ${p}`,
      'quit',
    ];
    const result = await runProcess(ZKCLI, ['-server', server()], script.join('\n') + '\n', { mergeStderr: true, timeoutMs: 60_000 });
    // zkCli exits with the status of the command before `quit`: the failed `ls`.
    assert.equal(result.code, 1, result.stdout);
    const lines = summarize(parseTranscript(result.stdout));
    assert.equal(lines.length, 15, lines.join('\n'));
    const [lsLine, lsSLine] = [lines[6]!, lines[11]!];
    assert.deepEqual(children(lsLine), ['eph', 'seq-0000000001']);
    assert.deepEqual(children(lsSLine), ['eph']);
    assert.deepEqual(
      lines.map((l, i) => (i === 6 || i === 11 ? 'ls' : l)),
      [
        `Created ${p}`,
        `Created ${p}/eph`,
        // The sequence suffix is the parent's count of creates so far (the ephemeral was the first).
        `Created ${p}/seq-0000000001`,
        'v0',
        'v1',
        'stat cversion=2 dataVersion=1 aclVersion=0 ephemeralOwner=0x0 dataLength=2 numChildren=2',
        'ls',
        'stat cversion=0 dataVersion=0 aclVersion=0 ephemeralOwner=session dataLength=1 numChildren=0',
        `Node already exists: ${p}`,
        `version No is not valid : ${p}`,
        `Node not empty: ${p}`,
        'ls',
        // A delete advances the reported cversion too.
        'stat cversion=3 dataVersion=1 aclVersion=0 ephemeralOwner=0x0 dataLength=2 numChildren=1',
        `Node does not exist: ${p}/nope`,
        `Node does not exist: ${p}`,
      ],
    );
  });

  test('get -w and ls -w: another client\'s set and create fire WATCHER:: events once', async () => {
    const p = uniquePath('zkcli-watch');
    const watcher = zkCli(server());
    try {
      watcher.write(`create ${p} v0\n`);
      await watcher.expect(new RegExp(`Created ${p}\\n`));
      watcher.write(`get -w ${p}\n`);
      await watcher.expect(/^v0$/m);
      watcher.write(`ls -w ${p}\n`);
      await watcher.expect(/^\[\]$/m);

      const other = await runProcess(ZKCLI, ['-server', server()], `set ${p} v1\ncreate ${p}/child c\nset ${p} v2\nquit\n`, { mergeStderr: true, timeoutMs: 60_000 });
      assert.equal(other.code, 0, other.stdout);
      assert.deepEqual(summarize(parseTranscript(other.stdout)), [`Created ${p}/child`]);

      await watcher.expect(new RegExp(`WATCHER::\\n\\nWatchedEvent state:SyncConnected type:NodeDataChanged path:${p}\\n`));
      await watcher.expect(new RegExp(`WATCHER::\\n\\nWatchedEvent state:SyncConnected type:NodeChildrenChanged path:${p}\\n`));
      watcher.write(`get ${p}\n`);
      await watcher.expect(/^v2$/m);
      watcher.write('quit\n');
      const done = await watcher.exited;
      assert.equal(done.code, 0);
      // The data watch fired once although the node changed twice.
      const events = parseTranscript(done.stdout).filter((i) => i.kind === 'watch' && i.type !== 'None');
      assert.deepEqual(events, [
        { kind: 'watch', state: 'SyncConnected', type: 'NodeDataChanged', path: p },
        { kind: 'watch', state: 'SyncConnected', type: 'NodeChildrenChanged', path: p },
      ]);
    } finally {
      watcher.kill();
    }
  });

  test('a command given as arguments runs once and exits', async () => {
    const p = uniquePath('zkcli-args');
    const created = await zkCli(server(), ['create', p, 'data']).exited;
    assert.equal(created.code, 0, created.stdout);
    assert.deepEqual(summarize(parseTranscript(created.stdout)), [`Created ${p}`]);
    const got = await zkCli(server(), ['get', p]).exited;
    assert.deepEqual(summarize(parseTranscript(got.stdout)), ['data']);
    const missing = await zkCli(server(), ['delete', `${p}/none`]).exited;
    assert.deepEqual(summarize(parseTranscript(missing.stdout)), [`Node does not exist: ${p}/none`]);
    await zkCli(server(), ['delete', p]).exited;
  });
});
