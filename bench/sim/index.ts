/**
 * Simulator benchmark: how fast the deterministic simulator runs seeds on one core (the
 * CLI runs one worker per core on top of this), per workload:
 *
 * - seeds/s: 3 voters, 200 client operations per seed, mixed faults;
 * - operations checked/s: history operations through the linearizability checker per
 *   wall second of whole seeds, and the checker's share of the time;
 * - simulated:wall: virtual seconds simulated per wall second;
 * - CPU per seed of each workload as a ratio against the server-level one measured in
 *   the same run (the baseline);
 * - the server-level workload with 5 voters.
 *
 * Workloads: `server` (server-level clients: the unprefixed metrics, as before), `clients`
 * (real ZooKeeperClients with watches, expiry and client faults), `recipes` (locks and
 * elections), `mixed` (the default of `npm run sim`: a per-seed mix of the three).
 * The target (issue 7): 10,000 seeds of 3 servers × 200 ops in under 30 minutes on two
 * cores, i.e. ≥ 5.5 seeds/s over both cores.
 */
import { performance } from 'node:perf_hooks';
import { runSeed, type WorkloadKind } from '../../src/sim/simulator.js';
import { quick, report, type Metric } from '../report.js';

interface Totals {
  seeds: number;
  seconds: number;
  operations: number;
  virtualMs: number;
  checkMs: number;
  failed: number;
}

async function run(workload: WorkloadKind, servers: number, seeds: number): Promise<Totals> {
  const totals: Totals = { seeds, seconds: 0, operations: 0, virtualMs: 0, checkMs: 0, failed: 0 };
  const start = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const result = await runSeed(seed, { servers, ops: 200, workload });
    totals.operations += result.stats.operations;
    totals.virtualMs += result.stats.virtualMs;
    totals.checkMs += result.stats.checkMs;
    if (!result.ok) totals.failed++;
  }
  totals.seconds = (performance.now() - start) / 1000;
  return totals;
}

function metrics(prefix: string, t: Totals, baseline?: Totals): Metric[] {
  const out: Metric[] = [
    { metric: `${prefix}seeds_per_s`, value: t.seeds / t.seconds, unit: 'seeds/s', note: `${t.seeds} seeds, one core` },
    { metric: `${prefix}ops_checked_per_s`, value: t.operations / t.seconds, unit: 'ops/s' },
    { metric: `${prefix}checker_share`, value: (100 * t.checkMs) / 1000 / t.seconds, unit: '%', note: 'of wall time in the linearizability checker' },
    { metric: `${prefix}simulated_to_wall`, value: t.virtualMs / 1000 / t.seconds, unit: 'x', note: 'virtual seconds per wall second' },
    { metric: `${prefix}failed_seeds`, value: t.failed, unit: 'seeds' },
  ];
  if (baseline !== undefined) {
    out.push({ metric: `${prefix}time_per_seed_vs_server`, value: t.seconds / t.seeds / (baseline.seconds / baseline.seeds), unit: 'x', note: 'wall per seed against the server-level workload, same run' });
  }
  return out;
}

await run('server', 3, quick ? 3 : 10); // warm up the JIT
await run('clients', 3, quick ? 2 : 5);
const three = await run('server', 3, quick ? 30 : 300);
const clients = await run('clients', 3, quick ? 15 : 150);
const recipes = await run('recipes', 3, quick ? 4 : 40);
const mixed = await run('mixed', 3, quick ? 30 : 300);
const five = await run('server', 5, quick ? 10 : 100);
const perSeed = three.seconds / three.seeds;
report('sim', [
  ...metrics('', three),
  { metric: 'minutes_for_10k_seeds_2_cores', value: (10_000 * perSeed) / 2 / 60, unit: 'min', note: 'extrapolated; target < 30' },
  ...metrics('clients.', clients, three),
  ...metrics('recipes.', recipes, three),
  ...metrics('mixed.', mixed, three),
  { metric: 'mixed.minutes_for_2k_seeds_2_cores', value: (2_000 * mixed.seconds) / mixed.seeds / 2 / 60, unit: 'min', note: 'the CI slice, extrapolated' },
  ...metrics('servers5.', five),
]);
