/**
 * `zoostate shell` against Apache ZooKeeper 3.8 (Debian's package), side by side with
 * zkCli.sh: the same commands against the same server, and every output block the
 * zoostate shell prints must appear in zkCli's transcript (after replacing times, zxids
 * and session ids, which differ between runs). Run with `npm run test:compat`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone, type ApacheZooKeeper } from '../../support/apache-zookeeper.js';
import { Shell } from '../../../src/cli/shell/shell.js';
import { runProcess } from '../clients/support.js';
import { runZoostate } from '../../unit/cli/support.js';

const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

const COMMANDS = (p: string): string[] => [
  `create ${p} hello`,
  `create ${p} hello`,
  `create -e ${p}/eph`,
  `create -s ${p}/seq- s`,
  `ls ${p}`,
  `ls -s ${p}`,
  `ls -R ${p}`,
  `get ${p}`,
  `get -s ${p}`,
  `stat ${p}`,
  `stat ${p}/nope`,
  `get ${p}/nope`,
  `set ${p} world`,
  `set -v 99 ${p} x`,
  `set -s ${p} again`,
  `delete ${p}`,
  `delete -v 7 ${p}/eph`,
  `getAcl ${p}`,
  `getAllChildrenNumber ${p}`,
  `getEphemerals ${p}`,
  `sync ${p}`,
  `setAcl ${p} world:anyone:cdrwa`,
  `get -w ${p}`,
  `set ${p} fire`,
  `deleteall ${p}`,
  `stat ${p}`,
];

/** Replace what differs between two runs: times, zxids, session ids, the test's path prefix. */
function normalize(text: string, prefix: string): string {
  return text
    .split(prefix)
    .join('/P')
    .replace(/\w{3} \w{3} \d\d \d\d:\d\d:\d\d \S+ \d{4}/g, 'DATE')
    .replace(/(cZxid|mZxid|pZxid) = 0x[0-9a-f]+/g, '$1 = 0xZ')
    .replace(/ephemeralOwner = 0x[0-9a-f]+/g, (m) => (m.endsWith('= 0x0') ? m : 'ephemeralOwner = 0xS'));
}

describe('zoostate shell against Apache ZooKeeper 3.8', () => {
  let zk: ApacheZooKeeper;
  before(async () => {
    zk = await startStandalone({ tickTime: 100 });
  });
  after(async () => {
    await zk.close();
  });

  test('every command prints what zkCli prints', async () => {
    const ours = `/shell-ours-${process.pid}`;
    const theirs = `/shell-zkcli-${process.pid}`;
    const blocks: Array<{ command: string; text: string }> = [];
    let current = '';
    const shell = new Shell({ server: zk.connectString, io: { out: (t) => (current += t), err: (t) => (current += t) }, requestTimeout: 10_000 });
    try {
      await shell.client!.waitUntilConnected();
      current = '';
      for (const command of COMMANDS(ours)) {
        await shell.execute(command);
        if (command.startsWith('set ') && command.endsWith(' fire')) {
          const deadline = Date.now() + 5000;
          while (!current.includes('NodeDataChanged') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        }
        blocks.push({ command, text: current });
        current = '';
      }
    } finally {
      shell.printWatches = false;
      await shell.close();
    }

    const zkcli = await runProcess(ZKCLI, ['-server', zk.connectString], COMMANDS(theirs).join('\n') + '\nquit\n', { mergeStderr: true, timeoutMs: 60_000 });
    const transcript = normalize(zkcli.stdout, theirs);
    for (const { command, text } of blocks) {
      if (text === '') continue;
      const expected = normalize(text, ours);
      assert.ok(transcript.includes(expected), `output of '${command}':\n${expected}\nnot found in zkCli's transcript:\n${transcript}`);
    }
    assert.ok(blocks.some((b) => b.text.includes('WatchedEvent state:SyncConnected type:NodeDataChanged path:')));
    assert.ok(blocks.filter((b) => b.text !== '').length >= 20, 'most commands print something');
  });

  test('the zoostate shell process runs a one-shot command against Apache ZooKeeper', async () => {
    const path = `/shell-oneshot-${process.pid}`;
    assert.equal((await runZoostate(['shell', '-server', zk.connectString, 'create', path, 'x'])).stderr, `Created ${path}\n`);
    const ls = await runZoostate(['shell', '-server', zk.connectString, 'ls', '/']);
    assert.equal(ls.code, 0);
    assert.match(ls.stdout, new RegExp(`\\[.*${path.slice(1)}.*\\]\\n$`));
    assert.equal((await runZoostate(['shell', '-server', zk.connectString, 'delete', path])).code, 0);
  });
});
