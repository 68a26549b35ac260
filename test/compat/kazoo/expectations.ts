/**
 * The kazoo baseline: what kazoo's own test suite does against Apache ZooKeeper 3.8.0
 * (`expectations.json`), the tests excluded from the run and the exceptions (tests that
 * fail or are flaky against Apache ZooKeeper itself), each with its reason.
 *
 * `compareToBaseline(results, baseline)` is the compatibility check for any target:
 * every kazoo test that passes against Apache ZooKeeper must pass against it.
 * `checkControlRun` is stricter and is used for the Apache control run itself: the run
 * must reproduce the recorded baseline exactly (so the baseline never silently rots).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KazooResults } from './results.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The baseline file. */
export const EXPECTATIONS_FILE = join(HERE, 'expectations.json');
/** The same as a markdown table (generated; included by the README). */
export const EXPECTATIONS_MARKDOWN = join(HERE, 'EXPECTATIONS.md');

/** Tests not run at all. */
export interface KazooExclusion {
  /** A file under kazoo/tests (`test_sasl.py`) or a node id (`file::Class::test`). */
  tests: string;
  reason: string;
}

/** A test that does not pass against Apache ZooKeeper 3.8.0. */
export interface KazooException {
  /** Node id, e.g. `test_connection.py::TestReadOnlyMode::test_read_only`. */
  test: string;
  /** `failed`: fails every run; `flaky`: sometimes passes, sometimes fails. */
  outcome: 'failed' | 'flaky';
  reason: string;
}

/** The whole baseline. */
export interface KazooExpectations {
  /** What the baseline was recorded against. */
  recordedAgainst: string;
  kazooVersion: string;
  excluded: KazooExclusion[];
  exceptions: KazooException[];
  /** Tests kazoo itself skips, with kazoo's reason. */
  skipped: Record<string, string>;
  /** Tests that pass against Apache ZooKeeper 3.8.0: the baseline. */
  passed: string[];
}

/** Read `expectations.json`. */
export function loadExpectations(file = EXPECTATIONS_FILE): KazooExpectations {
  return JSON.parse(readFileSync(file, 'utf8')) as KazooExpectations;
}

/** The part of `e` about the given kazoo test files (`test_client.py`, ...). */
export function restrictExpectations(e: KazooExpectations, files: readonly string[]): KazooExpectations {
  const mine = (id: string): boolean => files.some((f) => id.startsWith(`${f}::`));
  return {
    ...e,
    exceptions: e.exceptions.filter((x) => mine(x.test)),
    skipped: Object.fromEntries(Object.entries(e.skipped).filter(([id]) => mine(id))),
    passed: e.passed.filter(mine),
  };
}

/** The outcome of the compatibility check. */
export interface BaselineComparison {
  /** Human-readable lines, one per baseline test that did not pass against the target. Empty = compatible. */
  problems: string[];
  /** Exceptions (tests failing against Apache ZooKeeper) that pass against the target. */
  alsoPassing: string[];
}

const firstLine = (message: string): string => message.split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? '';

/** A baseline test a target does not pass yet, and why (each is listed in the README). */
export interface KnownGap {
  test: string;
  reason: string;
}

/**
 * Baseline tests each target is known to fail, by target name. A known gap must still
 * fail: once it passes, the comparison reports it so the entry is removed.
 */
export const KNOWN_GAPS: Readonly<Record<string, readonly KnownGap[]>> = {
  zoostate: [],
};

/** Every kazoo test that passes against Apache ZooKeeper must pass against the target, except its known gaps. */
export function compareToBaseline(results: KazooResults, baseline: KazooExpectations, gaps: readonly KnownGap[] = []): BaselineComparison {
  const problems: string[] = [];
  const gapTests = new Set(gaps.map((gap) => gap.test));
  for (const id of baseline.passed) {
    const result = results.get(id);
    if (result === undefined) problems.push(`${id}: not run`);
    else if (gapTests.has(id)) {
      if (result.outcome === 'passed') problems.push(`${id}: listed as a known gap but passes; remove it from KNOWN_GAPS`);
    } else if (result.outcome !== 'passed') problems.push(`${id}: ${result.outcome}: ${lastLine(result.message)}`);
  }
  const alsoPassing = baseline.exceptions.filter((e) => results.get(e.test)?.outcome === 'passed').map((e) => e.test);
  return { problems, alsoPassing };
}

const lastLine = (message: string): string => message.trim().split('\n').slice(-1)[0]?.trim().slice(0, 300) ?? '';

/**
 * The Apache control run must reproduce the baseline: the same tests pass, kazoo skips
 * the same tests, `failed` exceptions still fail, and no test is unaccounted for.
 */
export function checkControlRun(results: KazooResults, expectations: KazooExpectations): string[] {
  const problems = compareToBaseline(results, expectations).problems;
  const known = new Set<string>([...expectations.passed, ...Object.keys(expectations.skipped), ...expectations.exceptions.map((e) => e.test)]);
  for (const [id, reason] of Object.entries(expectations.skipped)) {
    const result = results.get(id);
    if (result?.outcome !== 'skipped') problems.push(`${id}: expected skipped (${reason}), got ${result?.outcome ?? 'not run'}`);
  }
  for (const exception of expectations.exceptions) {
    const result = results.get(exception.test);
    if (result === undefined) problems.push(`${exception.test}: recorded exception not run`);
    else if (exception.outcome === 'failed' && result.outcome !== 'failed') {
      problems.push(`${exception.test}: recorded as failing against Apache ZooKeeper (${exception.reason}) but ${result.outcome}; update expectations.json`);
    }
  }
  for (const [id, result] of results) {
    if (!known.has(id)) problems.push(`${id}: not in expectations.json (${result.outcome}: ${firstLine(result.message)})`);
  }
  return problems;
}

/**
 * A new baseline from one or more Apache runs: passed in every run → baseline; failed
 * in every run → a `failed` exception; both → `flaky`. Reasons (and exclusions) are
 * kept from `previous`; a new exception gets a placeholder reason to be written by hand.
 */
export function baselineFromRun(runs: readonly KazooResults[], previous: KazooExpectations): KazooExpectations {
  const ids = new Set<string>(runs.flatMap((r) => [...r.keys()]));
  const reasons = new Map(previous.exceptions.map((e) => [e.test, e]));
  const passed: string[] = [];
  const skipped: Record<string, string> = {};
  const exceptions: KazooException[] = [];
  for (const id of [...ids].sort()) {
    const outcomes = runs.map((r) => r.get(id)?.outcome ?? 'missing');
    if (outcomes.every((o) => o === 'passed')) passed.push(id);
    else if (outcomes.every((o) => o === 'skipped')) skipped[id] = runs[0]!.get(id)!.message;
    else {
      const old = reasons.get(id);
      const outcome = outcomes.every((o) => o === 'failed') ? 'failed' : 'flaky';
      exceptions.push({ test: id, outcome, reason: old?.reason ?? `UNEXPLAINED: ${lastLine(runs.map((r) => r.get(id)?.message ?? '').join('\n'))}` });
    }
  }
  return { ...previous, exceptions, skipped, passed };
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The exclusions, exceptions and skips as markdown tables (for the README). */
export function renderExpectationsMarkdown(e: KazooExpectations): string {
  const lines = [
    '# kazoo test suite: baseline against Apache ZooKeeper',
    '',
    `Generated from \`expectations.json\` by \`node --import tsx test/compat/kazoo/run.ts --write-expectations\`.`,
    '',
    `kazoo ${e.kazooVersion} (Debian python3-kazoo), against ${e.recordedAgainst}: **${e.passed.length} pass** (the baseline every target must pass), ` +
      `${e.exceptions.length} exceptions, ${Object.keys(e.skipped).length} skipped by kazoo itself, ${e.excluded.length} exclusions.`,
    '',
    '## Excluded (not run)',
    '',
    '| tests | reason |',
    '|---|---|',
    ...e.excluded.map((x) => `| \`${cell(x.tests)}\` | ${cell(x.reason)} |`),
    '',
    '## Exceptions: do not pass against Apache ZooKeeper 3.8.0',
    '',
    '| test | outcome | reason |',
    '|---|---|---|',
    ...e.exceptions.map((x) => `| \`${cell(x.test)}\` | ${x.outcome} | ${cell(x.reason)} |`),
    '',
    '## Skipped by kazoo itself',
    '',
    '| test | kazoo\'s reason |',
    '|---|---|',
    ...Object.entries(e.skipped).map(([id, reason]) => `| \`${cell(id)}\` | ${cell(reason)} |`),
    '',
  ];
  return lines.join('\n');
}
