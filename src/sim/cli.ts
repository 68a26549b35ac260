/**
 * `npm run sim -- --seeds N [--from S] [--servers 3|5] [--faults PROFILE] [--ops K]`
 * runs N seeds and prints one line per failing seed with the command that replays it,
 * then `N passed, M failed`; the exit code is 1 if any seed failed.
 * `npm run sim -- --seed S --trace` replays one seed and prints its event log.
 *
 * Options:
 *   --seeds N          number of seeds (default 100)
 *   --from S           first seed (default 1)
 *   --seed S           run exactly seed S (same as --from S --seeds 1)
 *   --servers 3|5      voting servers (default 3)
 *   --observers M      observers (default: drawn per seed, 0 or 1)
 *   --faults PROFILE   none | light | heavy | network | crash | mixed (default) | chaos
 *                      (chaos = heavy + batches duplicated on the wire, which the
 *                      network discards as TCP does)
 *   --ops K            client operations per seed (default 200)
 *   --workload KIND    server | clients | recipes | mixed (default): server-level clients,
 *                      session-level ZooKeeperClients with watches, lock/election recipes,
 *                      or a per-seed mix of all three
 *   --trace            print the event log of each seed run (use with --seed)
 *   --trace-network    include every network delivery in the trace
 *   --jobs J           worker threads (default: available cores; 1 runs in-process)
 *   --verbose          one line per seed, passing or not
 */
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FAULT_PROFILES, type FaultProfile } from './faults-plan.js';
import { DEFAULT_WORKLOAD, WORKLOAD_KINDS, runSeed, type SeedResult, type SimOptions, type WorkloadKind } from './simulator.js';

interface CliOptions {
  from: number;
  seeds: number;
  sim: SimOptions;
  trace: boolean;
  jobs: number;
  verbose: boolean;
  /** The flags to repeat in a replay command. */
  replayFlags: string[];
}

/** A seed's result, as small as a worker sends it back. */
interface Summary {
  seed: number;
  ok: boolean;
  profile: string;
  failures: { checker: string; message: string }[];
  operations: number;
  inconclusive: boolean;
  virtualMs: number;
  wallMs: number;
}

function usage(message: string): never {
  console.error(`sim: ${message}`);
  console.error('usage: npm run sim -- [--seeds N] [--from S] [--seed S] [--servers 3|5] [--observers M] [--faults PROFILE] [--ops K] [--workload KIND] [--trace] [--jobs J]');
  process.exit(2);
}

function parse(argv: readonly string[]): CliOptions {
  const options: CliOptions = { from: 1, seeds: 100, sim: {}, trace: false, jobs: Math.max(1, availableParallelism()), verbose: false, replayFlags: [] };
  const int = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !Number.isSafeInteger(n) || n < 0) usage(`${flag} needs a non-negative integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    switch (flag) {
      case '--seeds':
        options.seeds = int(flag, argv[++i]);
        break;
      case '--from':
        options.from = int(flag, argv[++i]);
        break;
      case '--seed':
        options.from = int(flag, argv[++i]);
        options.seeds = 1;
        break;
      case '--servers': {
        const n = int(flag, argv[++i]);
        if (n !== 3 && n !== 5) usage('--servers must be 3 or 5');
        options.sim.servers = n;
        options.replayFlags.push(flag, String(n));
        break;
      }
      case '--observers': {
        const n = int(flag, argv[++i]);
        options.sim.observers = n;
        options.replayFlags.push(flag, String(n));
        break;
      }
      case '--faults': {
        const p = argv[++i] as FaultProfile;
        if (!FAULT_PROFILES.includes(p)) usage(`--faults must be one of ${FAULT_PROFILES.join(', ')}`);
        options.sim.faults = p;
        options.replayFlags.push(flag, p);
        break;
      }
      case '--ops': {
        const n = int(flag, argv[++i]);
        options.sim.ops = n;
        options.replayFlags.push(flag, String(n));
        break;
      }
      case '--workload': {
        const w = argv[++i] as WorkloadKind;
        if (!WORKLOAD_KINDS.includes(w)) usage(`--workload must be one of ${WORKLOAD_KINDS.join(', ')}`);
        options.sim.workload = w;
        if (w !== DEFAULT_WORKLOAD) options.replayFlags.push(flag, w);
        break;
      }
      case '--trace':
        options.trace = true;
        break;
      case '--trace-network':
        options.trace = true;
        options.sim.traceNetwork = true;
        break;
      case '--jobs':
        options.jobs = Math.max(1, int(flag, argv[++i]));
        break;
      case '--verbose':
        options.verbose = true;
        break;
      default:
        usage(`unknown option ${flag}`);
    }
  }
  if (options.trace) options.jobs = 1;
  options.jobs = Math.min(options.jobs, Math.max(1, options.seeds));
  return options;
}

function summarize(result: SeedResult): Summary {
  return {
    seed: result.seed,
    ok: result.ok,
    profile: `${result.plan.profile}, ${result.composition.kind}`,
    failures: result.failures.map((f) => ({ checker: f.checker, message: f.message })),
    operations: result.stats.operations,
    inconclusive: result.stats.linearizability === 'unknown',
    virtualMs: result.stats.virtualMs,
    wallMs: result.stats.wallMs,
  };
}

async function runOne(seed: number, sim: SimOptions, trace: boolean): Promise<Summary> {
  const result = await runSeed(seed, trace ? { ...sim, trace: true } : sim);
  if (trace) for (const line of result.trace) console.log(line);
  return summarize(result);
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const started = performance.now();
  let passed = 0;
  let failed = 0;
  let inconclusive = 0;
  let operations = 0;
  let virtualMs = 0;
  const report = (s: Summary): void => {
    operations += s.operations;
    virtualMs += s.virtualMs;
    if (s.inconclusive) inconclusive++;
    if (s.ok) {
      passed++;
      if (options.verbose) console.log(`seed ${s.seed} ok (${s.profile}, ${s.operations} ops, ${s.virtualMs} virtual ms, ${s.wallMs.toFixed(0)} ms)`);
      return;
    }
    failed++;
    const checkers = [...new Set(s.failures.map((f) => f.checker))].join(', ');
    console.log(`seed ${s.seed} FAILED [${checkers}] (${s.profile}): ${s.failures[0]!.message}`);
    for (const f of s.failures.slice(1)) console.log(`    ${f.checker}: ${f.message}`);
    console.log(`    replay: npm run sim -- --seed ${s.seed}${options.replayFlags.length > 0 ? ' ' + options.replayFlags.join(' ') : ''} --trace`);
  };

  if (options.jobs <= 1) {
    for (let seed = options.from; seed < options.from + options.seeds; seed++) report(await runOne(seed, options.sim, options.trace));
  } else {
    await runInWorkers(options, report);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${options.seeds} seeds in ${seconds.toFixed(1)} s (${(options.seeds / seconds).toFixed(2)} seeds/s, ${(operations / seconds).toFixed(0)} ops checked/s, ` +
      `simulated:wall ${(virtualMs / 1000 / seconds).toFixed(1)}:1, ${options.jobs} job${options.jobs === 1 ? '' : 's'})` +
      (inconclusive > 0 ? `; ${inconclusive} linearizability checks inconclusive` : ''),
  );
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

/** Hand seeds to `jobs` workers one at a time (the slow seeds do not stall a fixed share). */
function runInWorkers(options: CliOptions, report: (s: Summary) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = options.from;
    const end = options.from + options.seeds;
    const results = new Map<number, Summary>();
    let reported = options.from;
    let live = options.jobs;
    const flush = (): void => {
      // Report in seed order so the output is the same however the seeds were scheduled.
      while (results.has(reported)) {
        report(results.get(reported)!);
        results.delete(reported);
        reported++;
      }
    };
    for (let j = 0; j < options.jobs; j++) {
      const worker = spawnWorker(options.sim);
      const feed = (): void => {
        if (next < end) worker.postMessage(next++);
        else void worker.terminate();
      };
      worker.on('message', (s: Summary) => {
        results.set(s.seed, s);
        flush();
        feed();
      });
      worker.on('error', reject);
      worker.on('exit', () => {
        if (--live === 0) {
          flush();
          resolve();
        }
      });
      feed();
    }
  });
}

/** A worker running this file (through tsx's loader when run from source). */
function spawnWorker(sim: SimOptions): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL(self), { workerData: { sim } });
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(self)}); });`;
  return new Worker(boot, { eval: true, workerData: { sim } });
}

if (isMainThread) {
  void main();
} else {
  const { sim } = workerData as { sim: SimOptions };
  parentPort!.on('message', (seed: number) => {
    void runOne(seed, sim, false).then((summary) => parentPort!.postMessage(summary));
  });
}
