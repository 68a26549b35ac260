/**
 * examples/cluster/run.ts end to end: it writes three zoo.cfg + myid, starts three
 * `zoostate server` processes, runs the status-board example against them over TCP,
 * stops them cleanly and removes its directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

test('the cluster example runs three zoostate servers and the status board against them', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/cluster/run.ts'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // SIGTERM makes the script kill its servers; SIGKILL only if that does not end it.
  const timer = setTimeout(() => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  }, 120_000);
  const code = await new Promise<number | string>((resolve) => child.once('exit', (c, s) => resolve(c ?? s ?? -1)));
  clearTimeout(timer);
  assert.equal(code, 0, `exit code; stdout:\n${stdout}\nstderr:\n${stderr}`);
  assert.match(stdout, /^cluster: server 1 ready on 127\.0\.0\.1:\d+$/m);
  assert.match(stdout, /^cluster: roles \(srvr\): server 1 \w+, server 2 \w+, server 3 \w+$/m);
  assert.deepEqual(/roles \(srvr\): (.*)$/m.exec(stdout)![1]!.match(/leader|follower/g)!.sort(), ['follower', 'follower', 'leader']);
  assert.match(stdout, /^board \| .*B and C ask at the same time/m);
  assert.match(stdout, /^board \| .*everyone leaves/m);
  assert.match(stdout, /^cluster: exit codes: server 1 0, server 2 0, server 3 0$/m);
  assert.match(stdout, /^cluster: done$/m);
  const root = / under (\S+)$/m.exec(stdout)?.[1];
  assert.ok(root !== undefined && !existsSync(root), 'the temporary directory is removed');
});
