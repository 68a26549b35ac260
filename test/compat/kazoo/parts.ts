/**
 * kazoo's suite split into parts, one `part-N.test.ts` file each: node's test runner
 * limits every test file to `--test-timeout` (600 s for `npm run test:compat`), each part
 * runs once per target, and the whole suite takes about 130 s against Apache ZooKeeper.
 * Parts are balanced by the measured durations (seconds, in the comments) to stay far
 * below that limit on a slower machine; each starts its own 3-server target.
 */
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { selectedTargets } from '../targets.js';
import { KAZOO_TESTS, kazooAvailable, runKazooSuite, type KazooRun } from './run.js';
import { KNOWN_GAPS, checkControlRun, compareToBaseline, loadExpectations, restrictExpectations } from './expectations.js';

/** Test files of each part; `'*'` stands for every file no other part names. */
export const KAZOO_PARTS: readonly (readonly string[])[] = [
  ['test_eventlet_handler.py'], // 24
  ['test_partitioner.py', '*'], // 21 + 3
  ['test_client.py', 'test_lock.py'], // 17 + 10
  ['test_watchers.py', 'test_connection.py'], // 17 + 10
  ['test_gevent_handler.py', 'test_cache.py'], // 11 + 9
];

/** Every kazoo test file that is not excluded as a whole. */
export function kazooTestFiles(): string[] {
  const excluded = new Set(loadExpectations().excluded.map((e) => e.tests));
  return readdirSync(KAZOO_TESTS)
    .filter((f) => /^test_.*\.py$/.test(f) && !excluded.has(f))
    .sort();
}

/** The files of part `index` (0-based), with `'*'` expanded. */
export function partFiles(index: number): string[] {
  const part = KAZOO_PARTS[index];
  if (part === undefined) throw new RangeError(`no kazoo part ${index}`);
  const named = new Set(KAZOO_PARTS.flat().filter((f) => f !== '*'));
  return part.flatMap((f) => (f === '*' ? kazooTestFiles().filter((file) => !named.has(file)) : [f]));
}

/**
 * Register part `index` for every selected target: run its files once (in `before`),
 * then one test per kazoo file. Against Apache ZooKeeper (the control) the run must
 * reproduce `expectations.json` exactly; against any other target every test that
 * passes against Apache ZooKeeper must pass.
 */
export function registerKazooPart(index: number): void {
  const files = partFiles(index);
  const expectations = loadExpectations();
  for (const { key, factory } of selectedTargets()) {
    describe(`kazoo 2.8.0 test suite, part ${index + 1}/${KAZOO_PARTS.length}, against ${key}`, () => {
      let run: KazooRun | undefined;
      before(async () => {
        if (!kazooAvailable()) throw new Error('kazoo is not installed: apt-get install python3-kazoo python3-pytest python3-mock python3-objgraph');
        run = await runKazooSuite(factory, { pytestArgs: files, expectations, totalTimeoutMs: 480_000, testTimeoutS: 60 });
      });
      after(() => {
        run = undefined;
      });
      for (const file of files) {
        const name =
          key === 'apache'
            ? `${file}: the Apache ZooKeeper control run reproduces expectations.json`
            : `${file}: every test that passes against Apache ZooKeeper passes`;
        test(name, () => {
          assert.ok(run !== undefined, 'the suite did not run');
          const baseline = restrictExpectations(expectations, [file]);
          const results = new Map([...run.results].filter(([id]) => id.startsWith(`${file}::`)));
          const problems = key === 'apache' ? checkControlRun(results, baseline) : compareToBaseline(results, baseline, KNOWN_GAPS[key]).problems;
          assert.deepEqual(problems, [], `${run.target}:\n${problems.join('\n')}\n\npytest output:\n${run.outputTail}`);
        });
      }
    });
  }
}
