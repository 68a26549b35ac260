/**
 * Crash tests with real processes: a writer is killed with SIGKILL at a random moment;
 * reopening its directory must yield every acknowledged transaction (maybe some later
 * ones too), with no gap and no damaged record, and every acknowledged epoch.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { seededRandom } from '../../../src/runtime/random.js';
import { FileStorage } from '../../../src/storage/file.js';
import { removeDir, tempDir } from './harness.js';
import { snapshotBytes, txnRange } from './txns.js';

const fixture = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

interface Acks {
  txn: number;
  epoch: number;
}

/** Run the writer until it has acknowledged `until` more txns, then SIGKILL it. */
function runAndKill(dir: string, seed: number, until: number): Promise<Acks> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Acks = { txn: 0, epoch: 0 };
    let first = -1;
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [kind, value] = line.split(' ');
        const n = Number(value);
        if (kind === 'ack') {
          acks.txn = Math.max(acks.txn, n);
          if (first < 0) first = n;
          if (!killed && acks.txn - first >= until) {
            killed = true;
            child.kill('SIGKILL');
          }
        } else if (kind === 'epoch') acks.epoch = Math.max(acks.epoch, n);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

test('SIGKILL at random moments never loses an acknowledged write', async () => {
  const dir = tempDir();
  const random = seededRandom(2024);
  try {
    let acked: Acks = { txn: 0, epoch: 0 };
    for (let round = 0; round < 4; round++) {
      const got = await runAndKill(dir, 100 + round, 200 + random.int(3000));
      acked = { txn: Math.max(acked.txn, got.txn), epoch: Math.max(acked.epoch, got.epoch) };
      const s = new FileStorage({ dir });
      const state = s.open();
      const last = state.lastLoggedZxid - makeZxid(1, 0);
      assert.ok(last >= acked.txn, `round ${round}: ${last} logged, ${acked.txn} acknowledged`);
      assert.ok(state.currentEpoch >= acked.epoch, `round ${round}: epoch ${state.currentEpoch} < ${acked.epoch}`);
      // The log is contiguous from its start (or the snapshot) to its end, and intact.
      const from = state.snapshot ? state.snapshot.zxid - makeZxid(1, 0) : 0;
      assert.ok(state.logStart <= (state.snapshot?.zxid ?? 0));
      const log = s.readLog(makeZxid(1, from));
      assert.equal(log.length, last - from, `round ${round}: no gap`);
      const expected = txnRange(1, from + 1, log.length);
      for (let i = 0; i < log.length; i++) assert.deepEqual(log[i], expected[i], `round ${round}: record ${from + i + 1}`);
      if (state.snapshot) assert.ok(Buffer.from(state.snapshot.bytes).subarray(0, 64).equals(Buffer.from(snapshotBytes(state.snapshot.zxid, 64))));
      s.close();
      acked.txn = last; // the next writer continues after whatever survived
    }
  } finally {
    removeDir(dir);
  }
});
