/**
 * Results of one kazoo test-suite run, built from the JSON lines the pytest plugin
 * (`zoostate_kazoo.py`) appends per test phase.
 */

/** The outcome of one kazoo test (setup, call and teardown together). */
export type KazooOutcome = 'passed' | 'failed' | 'skipped';

/** One test's result. */
export interface KazooTestResult {
  /** pytest node id relative to kazoo/tests, e.g. `test_client.py::TestClient::test_create`. */
  id: string;
  outcome: KazooOutcome;
  /** Failure text (the end of pytest's report) or the skip reason; empty when passed. */
  message: string;
  /** Seconds, all phases. */
  duration: number;
}

/** Every test of one run, by id. */
export type KazooResults = Map<string, KazooTestResult>;

interface PhaseLine {
  nodeid: string;
  when: 'setup' | 'call' | 'teardown';
  outcome: 'passed' | 'failed' | 'skipped';
  duration: number;
  message: string;
}

/** Strip everything up to `kazoo/tests/` so ids do not depend on where pytest ran. */
export function normalizeId(nodeid: string): string {
  const marker = 'kazoo/tests/';
  const at = nodeid.lastIndexOf(marker);
  return at === -1 ? nodeid : nodeid.slice(at + marker.length);
}

/** Fold the plugin's per-phase JSON lines into one result per test. */
export function parseReport(text: string): KazooResults {
  const results: KazooResults = new Map();
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = JSON.parse(raw) as PhaseLine;
    const id = normalizeId(line.nodeid);
    const current = results.get(id) ?? { id, outcome: 'passed' as KazooOutcome, message: '', duration: 0 };
    current.duration = Math.round((current.duration + line.duration) * 1000) / 1000;
    if (line.outcome === 'failed') {
      const where = line.when === 'call' ? '' : `[${line.when}] `;
      current.message = current.outcome === 'failed' ? `${current.message}\n${where}${line.message}` : `${where}${line.message}`;
      current.outcome = 'failed';
    } else if (line.outcome === 'skipped' && current.outcome !== 'failed') {
      current.outcome = 'skipped';
      current.message = line.message;
    }
    results.set(id, current);
  }
  return results;
}

/** Counts per outcome. */
export function summarize(results: KazooResults): Record<KazooOutcome, number> {
  const counts: Record<KazooOutcome, number> = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results.values()) counts[r.outcome]++;
  return counts;
}
