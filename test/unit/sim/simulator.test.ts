/**
 * The deterministic simulator: a seed replays exactly, its checkers catch deliberately
 * broken variants (proof that they can fail), and a bounded slice of seeds passes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed, type SeedResult } from '../../../src/sim/simulator.js';
import { LyingStorage, selfQuorum } from './broken-variants.js';

test('the same seed twice gives the identical trace and history (with crashes, traps, partitions, loss, delay, reordering)', async () => {
  const options = { faults: 'heavy' as const, ops: 120, workload: 'server' as const };
  const a = await runSeed(9, { ...options, trace: true });
  const b = await runSeed(9, { ...options, trace: true });
  // The seed exercises what it claims to, else the comparison proves little.
  const n = a.stats.nemesis;
  assert.ok(n.crashes > 0 && n.trapsFired > 0 && n.partitions > 0, `seed 9 no longer crashes, traps and partitions: ${JSON.stringify(n)}`);
  assert.ok(a.plan.drop > 0 && a.plan.delay > 0 && a.plan.reorder > 0);
  assert.ok(a.trace.length > 300, `only ${a.trace.length} trace lines`);
  assert.equal(a.traceDigest, b.traceDigest);
  assert.deepEqual(a.trace, b.trace);
  assert.equal(a.historyDigest, b.historyDigest);
  assert.equal(a.ok, true, JSON.stringify(a.failures));
  // Tracing observes the run without changing it.
  const quiet = await runSeed(9, options);
  assert.equal(quiet.historyDigest, a.historyDigest);
  assert.deepEqual(quiet.stats.nemesis, a.stats.nemesis);
});

test('a different seed gives a different run', async () => {
  const a = await runSeed(9, { faults: 'heavy', ops: 60 });
  const b = await runSeed(10, { faults: 'heavy', ops: 60 });
  assert.notEqual(a.historyDigest, b.historyDigest);
});

test('a server whose log ACKs before it is durable is caught (durability / prefix) within a few seeds of crashes', async () => {
  let caught: SeedResult | undefined;
  for (let seed = 1; seed <= 10 && caught === undefined; seed++) {
    const result = await runSeed(seed, {
      workload: 'server',
      faults: 'crash',
      ops: 100,
      linearizability: false,
      variant: { wrapStorage: (_id, storage, clock) => new LyingStorage(storage, clock, 30) },
    });
    if (!result.ok) caught = result;
  }
  assert.ok(caught, 'the lying storage survived 10 seeds of crashes');
  const checkers = new Set(caught.failures.map((f) => f.checker));
  assert.ok(checkers.has('durability') || checkers.has('prefix'), `caught by ${[...checkers].join(', ')}`);
  // The same seed without the lie passes: the variant, not the seed, is at fault.
  const honest = await runSeed(caught.seed, { workload: 'server', faults: 'crash', ops: 100, linearizability: false });
  assert.equal(honest.ok, true, JSON.stringify(honest.failures));
});

test('a leader that commits without a quorum (it counts only itself) is caught by leader-per-epoch and linearizability', async () => {
  const result = await runSeed(1, { workload: 'server', faults: 'none', ops: 100, variant: { membershipOf: selfQuorum } });
  assert.equal(result.ok, false);
  const checkers = new Set(result.failures.map((f) => f.checker));
  assert.ok(checkers.has('leader-per-epoch'), `caught by ${[...checkers].join(', ')}`);
  assert.ok(checkers.has('linearizability'), `caught by ${[...checkers].join(', ')}`);
});

/** The bounded slice of `npm test` (the CI slice runs `npm run sim -- --seeds 2000`). */
const SLICE = { from: 1, seeds: 150 };

test(`seeds ${SLICE.from}..${SLICE.from + SLICE.seeds - 1} pass every checker (the default mixed workload and faults, 3 voters, 200 ops)`, async () => {
  const failed: string[] = [];
  let operations = 0;
  for (let seed = SLICE.from; seed < SLICE.from + SLICE.seeds; seed++) {
    const result = await runSeed(seed);
    operations += result.stats.operations;
    if (!result.ok) failed.push(`seed ${seed}: ${result.failures.map((f) => `${f.checker}: ${f.message}`).join('; ')} (replay: npm run sim -- --seed ${seed} --trace)`);
  }
  assert.deepEqual(failed, []);
  assert.ok(operations > SLICE.seeds * 120, `only ${operations} operations checked`);
});

test('seeds 1..40 pass every checker with 5 voters', async () => {
  const failed: string[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    const result = await runSeed(seed, { servers: 5 });
    if (!result.ok) failed.push(`seed ${seed}: ${result.failures.map((f) => `${f.checker}: ${f.message}`).join('; ')} (replay: npm run sim -- --seed ${seed} --servers 5 --trace)`);
  }
  assert.deepEqual(failed, []);
});

test('chaos: batches duplicated on the wire reach the receiver once (seed 351 used to apply a forwarded REQUEST twice)', async () => {
  const failed: string[] = [];
  let duplicated = 0;
  for (const seed of [351, 1, 2, 3, 4, 5]) {
    const result = await runSeed(seed, { workload: 'server', faults: 'chaos', traceNetwork: true, trace: true });
    duplicated += result.trace.filter((l) => / net +d\d>/.test(l)).length;
    if (!result.ok) failed.push(`seed ${seed}: ${result.failures.map((f) => `${f.checker}: ${f.message}`).join('; ')}`);
  }
  assert.deepEqual(failed, []);
  assert.ok(duplicated > 0, 'no batch was duplicated');
});
