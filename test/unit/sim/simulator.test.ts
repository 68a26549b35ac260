/**
 * The deterministic simulator: a seed replays exactly, its checkers catch deliberately
 * broken variants (proof that they can fail), and a bounded slice of seeds passes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from '../../../src/sim/simulator.js';
import { LyingStorage, selfQuorum } from './broken-variants.js';

test('the same seed twice gives the identical trace and history (with crashes, traps, partitions, loss, delay, reordering)', () => {
  const options = { faults: 'heavy' as const, ops: 120 };
  const a = runSeed(9, { ...options, trace: true });
  const b = runSeed(9, { ...options, trace: true });
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
  const quiet = runSeed(9, options);
  assert.equal(quiet.historyDigest, a.historyDigest);
  assert.deepEqual(quiet.stats.nemesis, a.stats.nemesis);
});

test('a different seed gives a different run', () => {
  const a = runSeed(9, { faults: 'heavy', ops: 60 });
  const b = runSeed(10, { faults: 'heavy', ops: 60 });
  assert.notEqual(a.historyDigest, b.historyDigest);
});

test('a server whose log ACKs before it is durable is caught (durability / prefix) within a few seeds of crashes', () => {
  let caught: ReturnType<typeof runSeed> | undefined;
  for (let seed = 1; seed <= 10 && caught === undefined; seed++) {
    const result = runSeed(seed, {
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
  const honest = runSeed(caught.seed, { faults: 'crash', ops: 100, linearizability: false });
  assert.equal(honest.ok, true, JSON.stringify(honest.failures));
});

test('a leader that commits without a quorum (it counts only itself) is caught by leader-per-epoch and linearizability', () => {
  const result = runSeed(1, { faults: 'none', ops: 100, variant: { membershipOf: selfQuorum } });
  assert.equal(result.ok, false);
  const checkers = new Set(result.failures.map((f) => f.checker));
  assert.ok(checkers.has('leader-per-epoch'), `caught by ${[...checkers].join(', ')}`);
  assert.ok(checkers.has('linearizability'), `caught by ${[...checkers].join(', ')}`);
});

/** The bounded slice of `npm test` (the CI slice runs `npm run sim -- --seeds 2000`). */
const SLICE = { from: 1, seeds: 200 };

test(`seeds ${SLICE.from}..${SLICE.from + SLICE.seeds - 1} pass every checker (mixed faults, 3 voters, 200 ops)`, () => {
  const failed: string[] = [];
  let operations = 0;
  for (let seed = SLICE.from; seed < SLICE.from + SLICE.seeds; seed++) {
    const result = runSeed(seed);
    operations += result.stats.operations;
    if (!result.ok) failed.push(`seed ${seed}: ${result.failures.map((f) => `${f.checker}: ${f.message}`).join('; ')} (replay: npm run sim -- --seed ${seed} --trace)`);
  }
  assert.deepEqual(failed, []);
  assert.ok(operations > SLICE.seeds * 150, `only ${operations} operations checked`);
});

test('seeds 1..40 pass every checker with 5 voters', () => {
  const failed: string[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    const result = runSeed(seed, { servers: 5 });
    if (!result.ok) failed.push(`seed ${seed}: ${result.failures.map((f) => `${f.checker}: ${f.message}`).join('; ')} (replay: npm run sim -- --seed ${seed} --servers 5 --trace)`);
  }
  assert.deepEqual(failed, []);
});
