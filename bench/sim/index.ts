/**
 * Simulator benchmark: how fast the deterministic simulator runs seeds on one core (the
 * CLI runs one worker per core on top of this).
 *
 * - seeds/s: 3 voters, 200 client operations per seed, mixed faults (as `npm run sim`);
 * - operations checked/s: history operations through the linearizability checker per
 *   wall second of whole seeds, and the checker's share of the time;
 * - simulated:wall: virtual seconds simulated per wall second;
 * - the same for 5 voters.
 * The target (issue 7): 10,000 seeds of 3 servers × 200 ops in under 30 minutes on two
 * cores, i.e. ≥ 5.5 seeds/s over both cores.
 */
import { performance } from 'node:perf_hooks';
import { runSeed } from '../../src/sim/simulator.js';
import { quick, report, type Metric } from '../report.js';

interface Totals {
  seeds: number;
  seconds: number;
  operations: number;
  virtualMs: number;
  checkMs: number;
  failed: number;
}

function run(servers: number, seeds: number): Totals {
  const totals: Totals = { seeds, seconds: 0, operations: 0, virtualMs: 0, checkMs: 0, failed: 0 };
  const start = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const result = runSeed(seed, { servers, ops: 200 });
    totals.operations += result.stats.operations;
    totals.virtualMs += result.stats.virtualMs;
    totals.checkMs += result.stats.checkMs;
    if (!result.ok) totals.failed++;
  }
  totals.seconds = (performance.now() - start) / 1000;
  return totals;
}

function metrics(prefix: string, t: Totals): Metric[] {
  return [
    { metric: `${prefix}seeds_per_s`, value: t.seeds / t.seconds, unit: 'seeds/s', note: `${t.seeds} seeds, one core` },
    { metric: `${prefix}ops_checked_per_s`, value: t.operations / t.seconds, unit: 'ops/s' },
    { metric: `${prefix}checker_share`, value: (100 * t.checkMs) / 1000 / t.seconds, unit: '%', note: 'of wall time in the linearizability checker' },
    { metric: `${prefix}simulated_to_wall`, value: t.virtualMs / 1000 / t.seconds, unit: 'x', note: 'virtual seconds per wall second' },
    { metric: `${prefix}failed_seeds`, value: t.failed, unit: 'seeds' },
  ];
}

run(3, quick ? 3 : 10); // warm up the JIT
const three = run(3, quick ? 30 : 300);
const five = run(5, quick ? 10 : 100);
const perSeed = three.seconds / three.seeds;
report('sim', [
  ...metrics('', three),
  { metric: 'minutes_for_10k_seeds_2_cores', value: (10_000 * perSeed) / 2 / 60, unit: 'min', note: 'extrapolated; target < 30' },
  ...metrics('servers5.', five),
]);
