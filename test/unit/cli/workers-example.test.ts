/**
 * examples/workers/run.ts end to end: a 3-server worker ensemble, the status-board
 * participants A, B and C each in its own worker_thread over TCP, exclusive sync turns,
 * then every thread exits and the ensemble closes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Line {
  name: string;
  thread: number;
  seq: number;
  text: string;
}

test('the workers example runs A, B and C in worker threads against a worker ensemble', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/workers/run.ts'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | string>((resolve) => child.once('exit', (c, s) => resolve(c ?? s ?? -1)));
  clearTimeout(timer);
  const context = `stdout:\n${stdout}\nstderr:\n${stderr}`;
  assert.equal(code, 0, `exit code; ${context}`);

  // Servers: three worker threads, one leader.
  const servers = [...stdout.matchAll(/^ *\d+ ms {2}main {2}server (\d) @thread (\d+): (\w+), client port 127\.0\.0\.1:\d+$/gm)];
  assert.deepEqual(servers.map((m) => m[1]), ['1', '2', '3'], context);
  assert.deepEqual(servers.map((m) => m[3]).sort(), ['follower', 'follower', 'leader'], context);
  const serverThreads = servers.map((m) => Number(m[2]));

  // Participant lines, put in the order they happened (their shared sequence numbers).
  const lines: Line[] = [...stdout.matchAll(/^ *\d+ ms {2}([ABC]) @thread (\d+) {2}#(\d+) {2}(.*)$/gm)]
    .map((m) => ({ name: m[1]!, thread: Number(m[2]), seq: Number(m[3]), text: m[4]! }))
    .sort((a, b) => a.seq - b.seq);
  assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i), 'every sequence number once');
  const threads = new Map(lines.map((l) => [l.name, l.thread]));
  assert.deepEqual([...threads.keys()].sort(), ['A', 'B', 'C']);
  const participantThreads = [...threads.values()];
  assert.equal(new Set([0, ...serverThreads, ...participantThreads]).size, 7, 'main, 3 servers and 3 participants: 7 distinct threads');
  for (const l of lines) assert.equal(threads.get(l.name), l.thread, `${l.name} always reports from one thread`);
  for (const l of lines) assert.ok(l.text.startsWith(`${l.name} `), `a participant narrates itself: ${l.text}`);

  for (const name of ['A', 'B', 'C']) assert.ok(lines.some((l) => l.name === name && l.text.startsWith(`${name} joined the board`)), `${name} joined`);
  assert.match(stdout, /main {2}all three joined the board$/m);
  assert.match(stdout, /main {2}board \(as A sees it\): A\(ready, A:ready\)/m);

  // Sync turns: begin/end alternate, one participant inside at a time, tokens increase.
  const turns = lines.filter((l) => / syncs \(| ends its sync turn$/.test(l.text));
  assert.equal(turns.length, 6, context);
  const tokens: number[] = [];
  for (let i = 0; i < turns.length; i += 2) {
    const begin = /^(\w) syncs \(fencing token (\d+); (\d+) in a sync turn\)/.exec(turns[i]!.text);
    assert.ok(begin, `a turn begins: ${turns[i]!.text}`);
    assert.equal(begin[3], '1', 'no one else is inside a sync turn');
    assert.equal(turns[i + 1]!.text, `${begin[1]} ends its sync turn`, 'the same participant ends it before anyone else begins');
    tokens.push(Number(begin[2]));
  }
  assert.equal(turns[0]!.name, 'A', 'A syncs first');
  assert.deepEqual(turns.filter((_, i) => i % 2 === 0).map((t) => t.name).slice(1).sort(), ['B', 'C']);
  assert.ok(tokens[0]! < tokens[1]! && tokens[1]! < tokens[2]!, `fencing tokens increase: ${tokens.join(', ')}`);
  // The board is a watch-fed view (eventually consistent): only A's own entry is certain.
  assert.match(stdout, /main {2}board \(as A sees it\): A\(ready, A:done\)/m);

  // Everyone finished: left, thread exited 0; the ensemble closed.
  for (const name of ['A', 'B', 'C']) {
    assert.ok(lines.some((l) => l.name === name && l.text === `${name} left and closed its session`), `${name} left`);
    assert.match(stdout, new RegExp(`main {2}participant ${name} @thread ${threads.get(name)} exited with code 0$`, 'm'));
  }
  assert.match(stdout, new RegExp(`main {2}ensemble closed \\(${servers.map((m) => `server ${m[1]} @thread ${m[2]}`).join(', ')}\\)$`, 'm'));
  assert.match(stdout, /main {2}done$/m);
});
