/**
 * Consistency of the kazoo baseline files (no servers needed): the parts cover every
 * kazoo test file once, EXPECTATIONS.md is generated from expectations.json, every
 * exception has a reason, and the baseline check itself behaves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KAZOO_PARTS, kazooTestFiles, partFiles } from './parts.js';
import { EXPECTATIONS_MARKDOWN, checkControlRun, compareToBaseline, loadExpectations, renderExpectationsMarkdown, type KazooExpectations } from './expectations.js';
import { parseReport, type KazooResults } from './results.js';

test('the parts run every kazoo test file exactly once', () => {
  const files = KAZOO_PARTS.flatMap((_, i) => partFiles(i)).sort();
  assert.deepEqual(files, kazooTestFiles());
});

test('EXPECTATIONS.md is generated from expectations.json (run.ts --render-expectations)', () => {
  assert.equal(readFileSync(EXPECTATIONS_MARKDOWN, 'utf8'), renderExpectationsMarkdown(loadExpectations()));
});

test('every exclusion and exception has a written reason, and no test is listed twice', () => {
  const e = loadExpectations();
  for (const x of [...e.excluded, ...e.exceptions]) assert.ok(x.reason.length > 40 && !x.reason.startsWith('UNEXPLAINED'), JSON.stringify(x));
  const ids = [...e.passed, ...Object.keys(e.skipped), ...e.exceptions.map((x) => x.test)];
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(e.passed.length > 400, 'the baseline holds the whole suite');
});

const line = (nodeid: string, when: string, outcome: string, message = ''): string => JSON.stringify({ nodeid, when, outcome, duration: 0.5, message });

test('the plugin report folds phases into one outcome per test', () => {
  const results = parseReport(
    [
      line('../../usr/lib/python3/dist-packages/kazoo/tests/test_a.py::T::ok', 'setup', 'passed'),
      line('../../usr/lib/python3/dist-packages/kazoo/tests/test_a.py::T::ok', 'call', 'passed'),
      line('../../usr/lib/python3/dist-packages/kazoo/tests/test_a.py::T::ok', 'teardown', 'passed'),
      line('test_a.py::T::bad_teardown', 'call', 'passed'),
      line('test_a.py::T::bad_teardown', 'teardown', 'failed', 'boom'),
      line('test_a.py::T::skip', 'setup', 'skipped', 'Skipped: no'),
    ].join('\n'),
  );
  assert.deepEqual(
    [...results.values()].map((r) => [r.id, r.outcome, r.message, r.duration]),
    [
      ['test_a.py::T::ok', 'passed', '', 1.5],
      ['test_a.py::T::bad_teardown', 'failed', '[teardown] boom', 1],
      ['test_a.py::T::skip', 'skipped', 'Skipped: no', 0.5],
    ],
  );
});

test('compareToBaseline: every baseline pass must pass; exceptions may do anything', () => {
  const baseline: KazooExpectations = {
    recordedAgainst: 'x',
    kazooVersion: 'y',
    excluded: [],
    exceptions: [{ test: 'f.py::T::ro', outcome: 'failed', reason: 'r' }],
    skipped: { 'f.py::T::travis': 'Skipped: travis' },
    passed: ['f.py::T::a', 'f.py::T::b', 'f.py::T::c'],
  };
  const result = (outcome: 'passed' | 'failed' | 'skipped', message = ''): { outcome: typeof outcome; message: string } => ({ outcome, message });
  const results: KazooResults = new Map(
    Object.entries({
      'f.py::T::a': result('passed'),
      'f.py::T::b': result('failed', 'E  assert 1 == 2'),
      'f.py::T::ro': result('passed'),
      'f.py::T::travis': result('skipped'),
      'f.py::T::new': result('passed'),
    }).map(([id, r]) => [id, { id, duration: 0, ...r }]),
  );
  assert.deepEqual(compareToBaseline(results, baseline), {
    problems: ['f.py::T::b: failed: E  assert 1 == 2', 'f.py::T::c: not run'],
    alsoPassing: ['f.py::T::ro'],
  });
  assert.deepEqual(checkControlRun(results, baseline), [
    'f.py::T::b: failed: E  assert 1 == 2',
    'f.py::T::c: not run',
    'f.py::T::ro: recorded as failing against Apache ZooKeeper (r) but passed; update expectations.json',
    'f.py::T::new: not in expectations.json (passed: )',
  ]);
});
