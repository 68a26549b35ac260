/**
 * The C client's shell, `cli_mt host:port` (Debian's zookeeper-bin 3.8.0), against each
 * compatibility target, driven interactively over stdin: create (persistent,
 * ephemeral, sequential; cli_mt always stores the 3 bytes `new`), get, set, ls,
 * exists, delete, and the watches `get`, `ls` and `wexists` leave, fired by a second
 * cli_mt. Its output (all on stderr) is parsed and checked exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describeTargets, startProcess, uniquePath, type RunningProcess } from './support.js';

const CLI_MT = '/usr/lib/zookeeper/bin/cli_mt';

/** Escape `text` for use in a RegExp. */
const re = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A cli_mt session with expect-style helpers. */
class CliMt {
  readonly process: RunningProcess;
  sessionId = '';
  private markers = 0;

  constructor(server: string) {
    // Lines printed when a command is submitted, whose position among results is racy.
    this.process = startProcess(CLI_MT, [server], { mergeStderr: true, timeoutMs: 60_000, ignore: /^(time = -?\d+ msec|Creating \[.*\] node \(mode: \d+\))$/ });
  }

  async connected(): Promise<void> {
    await this.process.expect(/Watcher SESSION_EVENT state = CONNECTED_STATE\n/);
    this.sessionId = (await this.process.expect(/Got a new session id: (0x[0-9a-f]+)\n/))[1]!;
  }

  send(command: string): void {
    this.process.write(`${command}\n`);
  }

  /** Wait for the next `pattern` (a multi-line RegExp source) in the output. */
  expect(pattern: string): Promise<RegExpMatchArray> {
    return this.process.expect(new RegExp(pattern));
  }

  /** `create` and return the created name. */
  async create(flags: string, path: string): Promise<string> {
    this.send(`create ${flags}${flags ? ' ' : ''}${path}`);
    return (await this.expect(`\\[${re(path)}\\]: rc = 0\\n\\tname = (\\S+)\\n`))[1]!;
  }

  /** `get`: value, version, ephemeralOwner, czxid/mzxid (decimal). Leaves a data watch. */
  async get(path: string): Promise<{ value: string; version: number; aversion: number; ephemeralOwner: string; czxid: bigint; mzxid: bigint }> {
    this.send(`get ${path}`);
    const m = await this.expect(
      `${re(path)}: rc = 0\\n value_len = (\\d+)\\n(.*)\\nStat:\\n\\tctime = .+\\n\\tczxid=(\\d+)\\n\\tmtime=.+\\n\\tmzxid=(\\d+)\\n\\tversion=(\\d+)\\taversion=(\\d+)\\n\\tephemeralOwner = (\\w+)\\n`,
    );
    assert.equal(Number(m[1]), Buffer.byteLength(m[2]!), 'value_len is the data length');
    return { value: m[2]!, czxid: BigInt(m[3]!), mzxid: BigInt(m[4]!), version: Number(m[5]), aversion: Number(m[6]), ephemeralOwner: m[7]! };
  }

  /** `ls`: the children, sorted. Leaves a child watch. */
  async ls(path: string): Promise<string[]> {
    // The listing has no end marker: a following `ls` of a missing node provides one. Both
    // are printed by the completion thread, in reply order; a synchronous command's error
    // (say `exists`) is printed by the main thread and can overtake the listing.
    const marker = `/zoostate-ls-end-${++this.markers}`;
    this.send(`ls ${path}`);
    this.send(`ls ${marker}`);
    const m = await this.expect(`${re(path)}: rc = 0\\n((?:\\t.*\\n)*)${re(marker)}: rc = -101\\n`);
    return m[1]!
      .split('\n')
      .filter((l) => l.startsWith('\t'))
      .map((l) => l.slice(1))
      .sort();
  }

  /** `delete`: the return code. */
  async delete(path: string): Promise<number> {
    this.send(`delete ${path}`);
    return Number((await this.expect(`${re(path)}: rc = (-?\\d+)\\n`))[1]);
  }

  /** The next watch notification `Watcher <TYPE> state = CONNECTED_STATE for path <path>`. */
  async event(type: string, path: string): Promise<void> {
    await this.expect(`Watcher ${type} state = CONNECTED_STATE for path ${re(path)}\\n`);
  }

  async quit(): Promise<number | null> {
    this.send('quit');
    await this.expect('Quitting\\.\\.\\.\\n');
    this.process.end();
    return (await this.process.exited).code;
  }
}

describeTargets('cli_mt (C client 3.8.0)', { servers: 1 }, (target) => {
  test('cli_mt is installed', () => {
    assert.ok(existsSync(CLI_MT), `${CLI_MT} missing: apt-get install zookeeper-bin`);
  });

  test('create, get, set, ls, exists, delete and the watches they leave', async () => {
    const server = target().servers[0]!;
    const a = new CliMt(server);
    const b = new CliMt(server);
    try {
      await Promise.all([a.connected(), b.connected()]);
      assert.notEqual(a.sessionId, b.sessionId);
      const p = uniquePath('climt');

      assert.equal(await a.create('', p), p);
      assert.equal(await a.create('+e', `${p}/eph`), `${p}/eph`);
      // The suffix counts the parent's creates so far (the ephemeral was the first).
      assert.equal(await a.create('+s', `${p}/seq-`), `${p}/seq-0000000001`);
      a.send(`create ${p}`);
      await a.expect(`\\[${re(p)}\\]: rc = -110\\n`); // ZNODEEXISTS

      const fresh = await a.get(p); // leaves a data watch on p
      assert.deepEqual({ value: fresh.value, version: fresh.version, aversion: fresh.aversion, ephemeralOwner: fresh.ephemeralOwner }, { value: 'new', version: 0, aversion: 0, ephemeralOwner: '0' });
      assert.equal(fresh.mzxid, fresh.czxid);
      const eph = await a.get(`${p}/eph`);
      assert.equal(BigInt(`0x${eph.ephemeralOwner}`), BigInt(a.sessionId)); // printed in hex without 0x
      assert.deepEqual(await a.ls(p), ['eph', 'seq-0000000001']); // leaves a child watch on p
      a.send(`wexists ${p}/later`); // leaves an exists watch on a missing node
      await a.expect(`Error -101 for ${re(p)}/later\\n`);

      // Another client changes the node, adds a child and creates the watched node.
      b.send(`set ${p} changed`);
      const set = await b.expect(`${re(p)}: rc = 0 Stat:\\n\\tctime = .+\\n\\tczxid=(\\d+)\\n\\tmtime=.+\\n\\tmzxid=(\\d+)\\n\\tversion=(\\d+)\\taversion=0\\n`);
      assert.equal(BigInt(set[1]!), fresh.czxid);
      assert.ok(BigInt(set[2]!) > fresh.mzxid);
      assert.equal(set[3], '1');
      await a.event('CHANGED_EVENT', p);
      assert.equal(await b.create('', `${p}/later`), `${p}/later`);
      // One create fires the node's exists watch, then its parent's child watch.
      await a.event('CREATED_EVENT', `${p}/later`);
      await a.event('CHILD_EVENT', p);

      const changed = await a.get(p); // a new data watch
      assert.equal(changed.value, 'changed');
      assert.equal(changed.version, 1);
      b.send(`exists ${p}/none`);
      await b.expect(`Error -101 for ${re(p)}/none\\n`);

      assert.equal(await b.delete(p), -111); // ZNOTEMPTY
      assert.equal(await b.delete(`${p}/seq-0000000001`), 0);
      assert.equal(await b.delete(`${p}/later`), 0);
      assert.equal(await b.delete(`${p}/eph`), 0);
      await a.event('DELETED_EVENT', `${p}/eph`); // a's get of it left a data watch
      assert.deepEqual(await b.ls(p), []);
      assert.equal(await b.delete(p), 0);
      await a.event('DELETED_EVENT', p);
      assert.equal(await b.delete(p), -101); // ZNONODE
      a.send(`get ${p}`);
      await a.expect(`${re(p)}: rc = -101\\n`);

      // Every watch fired exactly once.
      const events = a.process.output().match(/^Watcher (?!SESSION_EVENT).*$/gm) ?? [];
      assert.deepEqual(events, [
        `Watcher CHANGED_EVENT state = CONNECTED_STATE for path ${p}`,
        `Watcher CREATED_EVENT state = CONNECTED_STATE for path ${p}/later`,
        `Watcher CHILD_EVENT state = CONNECTED_STATE for path ${p}`,
        `Watcher DELETED_EVENT state = CONNECTED_STATE for path ${p}/eph`,
        `Watcher DELETED_EVENT state = CONNECTED_STATE for path ${p}`,
      ]);
      assert.equal(await a.quit(), 0);
      assert.equal(await b.quit(), 0);
    } finally {
      a.process.kill();
      b.process.kill();
    }
  });
});
