/**
 * Runs kazoo's own test suite (Debian's python3-kazoo 2.8.0, in
 * /usr/lib/python3/dist-packages/kazoo/tests) against a compatibility target.
 *
 * The runner starts the target (3 servers with `KAZOO_SETTINGS`), serves a tiny HTTP
 * control API on loopback for the tests that stop and restart servers, and runs
 * `/usr/bin/python3 -m pytest -p zoostate_kazoo` with the plugin beside this file,
 * which points kazoo's harness at those servers. Results come back as JSON lines.
 *
 * Library: `runKazooSuite(factory, options)`. Command line:
 *
 * ```
 * node --import tsx test/compat/kazoo/run.ts [--target apache] [--write-expectations]
 *      [--runs N] [pytest selection, e.g. test_lock.py or -k expr]
 * ```
 * prints a summary and the comparison with `expectations.json`; `--write-expectations`
 * (apache only, full suite) records the run as the new baseline, keeping the recorded
 * exceptions and exclusions; `--runs N` repeats the run (to find flaky tests);
 * `--test-timeout S` sets the per-test limit; `--results FILE` saves every test's result as JSON; `--render-expectations` only
 * regenerates EXPECTATIONS.md from expectations.json (after editing a reason).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompatTarget, TargetFactory, TargetSettings } from '../targets.js';
import { parseReport, summarize, type KazooResults } from './results.js';
import {
  baselineFromRun,
  checkControlRun,
  compareToBaseline,
  loadExpectations,
  renderExpectationsMarkdown,
  EXPECTATIONS_FILE,
  EXPECTATIONS_MARKDOWN,
  type KazooExpectations,
} from './expectations.js';

/** Where Debian installs kazoo's tests. */
export const KAZOO_TESTS = '/usr/lib/python3/dist-packages/kazoo/tests';
/** Debian's Python (the one that can import kazoo, pytest, mock, gevent, eventlet). */
export const PYTHON = '/usr/bin/python3';
const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * What kazoo's tests expect of the servers (as kazoo's own harness configures them):
 * superuser `super:test` (TestReconfig), dynamic reconfiguration, read-only mode
 * (TestReadOnlyMode), session timeouts bounded to 4-40 s as with tickTime=2000 (so
 * test_lease's 0.8 s client timeout negotiates to 4 s as upstream). tickTime itself
 * stays small: nothing in the suite waits on server-side expiry.
 */
export const KAZOO_SETTINGS: TargetSettings = {
  servers: 3,
  tickTime: 200,
  minSessionTimeout: 4000,
  maxSessionTimeout: 40_000,
  superDigest: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=',
  readOnlyMode: true,
  reconfig: true,
};

/** True if Debian's python3 can import kazoo and pytest. */
export function kazooAvailable(): boolean {
  return existsSync(PYTHON) && existsSync(join(KAZOO_TESTS, 'test_client.py'));
}

/** Options of one suite run. */
export interface KazooRunOptions {
  /** Extra pytest arguments (selection): files under kazoo/tests, `-k expr`, node ids. Default: the whole suite. */
  pytestArgs?: readonly string[];
  /** Per-test limit, seconds (setup + call + teardown); default 120. */
  testTimeoutS?: number;
  /** Limit for the whole pytest run, ms; default 20 minutes. */
  totalTimeoutMs?: number;
  /** Expectations whose `excluded` entries are not run; default `expectations.json`. */
  expectations?: KazooExpectations;
  /** Settings for the target; default `KAZOO_SETTINGS`. */
  settings?: TargetSettings;
}

/** What one run produced. */
export interface KazooRun {
  target: string;
  results: KazooResults;
  /** pytest's exit code (0 all passed, 1 some failed). */
  exitCode: number;
  /** Wall time of the pytest run, ms (without starting the target). */
  wallMs: number;
  /** The last lines of pytest's own output. */
  outputTail: string;
}

/**
 * The control API the plugin calls: `GET /status` → `{"running": [bool...]}`;
 * `POST /stop/<i>`, `/start/<i>`, `/start-all`, `/stop-all` → the same, once done.
 * Calls are serialized.
 */
async function startControl(target: CompatTarget): Promise<{ url: string; server: Server }> {
  let queue: Promise<unknown> = Promise.resolve();
  const count = target.servers.length;
  const status = (): { running: boolean[] } => ({ running: Array.from({ length: count }, (_, i) => target.isRunning(i)) });
  const act = async (method: string, path: string): Promise<void> => {
    const single = /^\/(stop|start)\/(\d+)$/.exec(path);
    if (method === 'GET' && path === '/status') return;
    if (method !== 'POST') throw new Error(`bad request ${method} ${path}`);
    if (single !== null) {
      const index = Number(single[2]);
      if (index >= count) throw new Error(`no server ${index}`);
      await (single[1] === 'stop' ? target.stop(index) : target.start(index));
    } else if (path === '/start-all') {
      for (let i = 0; i < count; i++) if (!target.isRunning(i)) await target.start(i);
    } else if (path === '/stop-all') {
      for (let i = 0; i < count; i++) await target.stop(i);
    } else {
      throw new Error(`bad request ${method} ${path}`);
    }
  };
  const server = createServer((req, res) => {
    const run = queue.then(() => act(req.method ?? 'GET', req.url ?? '/'));
    queue = run.catch(() => {});
    run.then(
      () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status()));
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error instanceof Error ? error.message : error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, server };
}

/** pytest arguments that keep the excluded tests out of the run. */
function exclusionArgs(expectations: KazooExpectations): string[] {
  return expectations.excluded.flatMap((e) => (e.tests.includes('::') ? [`--deselect=${e.tests}`] : [`--ignore=${join(KAZOO_TESTS, e.tests)}`]));
}

/** Run pytest against an already running target. */
export async function runKazooAgainst(target: CompatTarget, options: KazooRunOptions = {}): Promise<KazooRun> {
  const expectations = options.expectations ?? loadExpectations();
  const work = mkdtempSync(join(tmpdir(), 'zoostate-kazoo-'));
  const reportFile = join(work, 'report.jsonl');
  const control = await startControl(target);
  const started = Date.now();
  try {
    const selection = options.pytestArgs?.length ? options.pytestArgs.map((a) => (a.startsWith('test_') ? join(KAZOO_TESTS, a) : a)) : [KAZOO_TESTS];
    const args = [
      '-m',
      'pytest',
      '-p',
      'zoostate_kazoo',
      '-p',
      'no:cacheprovider',
      `--rootdir=${KAZOO_TESTS}`,
      '-q',
      '--tb=short',
      '-W',
      'ignore::DeprecationWarning',
      ...exclusionArgs(expectations),
      ...selection,
    ];
    const child = spawn(PYTHON, args, {
      cwd: work,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PYTHONPATH: HERE,
        PYTHONDONTWRITEBYTECODE: '1',
        ZOOSTATE_KAZOO_SERVERS: target.servers.join(','),
        ZOOSTATE_KAZOO_CONTROL: control.url,
        ZOOSTATE_KAZOO_REPORT: reportFile,
        ZOOSTATE_KAZOO_TIMEOUT: String(options.testTimeoutS ?? 120),
        ZOOSTATE_KAZOO_WATCH_STDIN: '1',
      },
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.once('exit', killGroup);
    const totalTimeoutMs = options.totalTimeoutMs ?? 20 * 60_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, totalTimeoutMs);
    const exitCode = await new Promise<number>((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
    clearTimeout(timer);
    killGroup(); // anything the tests left behind in the group
    process.off('exit', killGroup);
    const wallMs = Date.now() - started;
    if (timedOut) throw new Error(`kazoo suite exceeded ${totalTimeoutMs} ms; output:\n${output.slice(-4000)}`);
    if (exitCode !== 0 && exitCode !== 1) throw new Error(`pytest exited with ${exitCode}; output:\n${output.slice(-4000)}`);
    const results = parseReport(existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '');
    return { target: target.name, results, exitCode, wallMs, outputTail: output.split('\n').slice(-30).join('\n') };
  } finally {
    await new Promise<void>((resolve) => control.server.close(() => resolve()));
    control.server.closeAllConnections();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Start a target with the kazoo settings, run the suite against it, stop the target. */
export async function runKazooSuite(factory: TargetFactory, options: KazooRunOptions = {}): Promise<KazooRun> {
  const target = await factory(options.settings ?? KAZOO_SETTINGS);
  try {
    return await runKazooAgainst(target, options);
  } finally {
    await target.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { TARGETS } = await import('../targets.js');
  let targetKey = 'apache';
  let write = false;
  let runs = 1;
  let resultsFile: string | undefined;
  let testTimeoutS: number | undefined;
  const pytestArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--target') targetKey = argv[++i]!;
    else if (arg === '--write-expectations') write = true;
    else if (arg === '--runs') runs = Number(argv[++i]);
    else if (arg === '--results') resultsFile = argv[++i];
    else if (arg === '--test-timeout') testTimeoutS = Number(argv[++i]);
    else if (arg === '--render-expectations') {
      writeFileSync(EXPECTATIONS_MARKDOWN, renderExpectationsMarkdown(loadExpectations()));
      console.log(`wrote ${EXPECTATIONS_MARKDOWN}`);
      return;
    }
    else pytestArgs.push(arg);
  }
  const factory = TARGETS[targetKey];
  if (factory === undefined) throw new Error(`unknown target ${targetKey}`);
  const expectations = loadExpectations();
  const history: KazooRun[] = [];
  for (let r = 0; r < runs; r++) {
    const run = await runKazooSuite(factory, { pytestArgs, expectations, ...(testTimeoutS !== undefined ? { testTimeoutS } : {}) });
    history.push(run);
    const counts = summarize(run.results);
    console.log(`run ${r + 1}: ${run.target}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${(run.wallMs / 1000).toFixed(1)} s`);
    for (const result of run.results.values()) {
      if (result.outcome === 'failed') console.log(`  FAILED ${result.id} (${result.duration} s)\n    ${result.message.split('\n').slice(-3).join('\n    ')}`);
    }
    if (pytestArgs.length === 0) {
      const problems = targetKey === 'apache' ? checkControlRun(run.results, expectations) : compareToBaseline(run.results, expectations).problems;
      console.log(problems.length === 0 ? '  matches expectations.json' : `  differs from expectations.json:\n    ${problems.join('\n    ')}`);
    }
  }
  if (resultsFile !== undefined) writeFileSync(resultsFile, JSON.stringify(history.map((h) => [...h.results.values()]), null, 1));
  const slowest = [...history[0]!.results.values()].sort((a, b) => b.duration - a.duration).slice(0, 15);
  console.log(`slowest tests:\n${slowest.map((t) => `  ${t.duration.toFixed(1)} s ${t.id}`).join('\n')}`);
  if (write) {
    if (targetKey !== 'apache' || pytestArgs.length > 0) throw new Error('--write-expectations needs the apache target and the full suite');
    const next = baselineFromRun(history.map((h) => h.results), expectations);
    writeFileSync(EXPECTATIONS_FILE, JSON.stringify(next, null, 2) + '\n');
    writeFileSync(EXPECTATIONS_MARKDOWN, renderExpectationsMarkdown(next));
    console.log(`wrote ${EXPECTATIONS_FILE} and ${EXPECTATIONS_MARKDOWN}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
