/**
 * Benchmark output: a human table on stdout, and with `--json` one JSON object per
 * metric (`{"bench","metric","value","unit"}`), the contract DESIGN.md fixes.
 */
import { performance } from 'node:perf_hooks';

/** True when the benchmark was run with `--json`. */
export const jsonOutput = process.argv.includes('--json');

/** True when the benchmark was run with `--quick` (smaller sizes, for CI smoke runs). */
export const quick = process.argv.includes('--quick');

/** One measured value. */
export interface Metric {
  metric: string;
  value: number;
  unit: string;
  /** Optional note for the human table (e.g. the baseline it is compared with). */
  note?: string;
}

/** Print the metrics of one benchmark, as a table and (with --json) as JSON lines. */
export function report(bench: string, metrics: Metric[]): void {
  const width = Math.max(...metrics.map((m) => m.metric.length));
  console.log(`\n${bench}`);
  for (const m of metrics) {
    const value = Number.isInteger(m.value) ? m.value.toLocaleString('en-US') : m.value.toLocaleString('en-US', { maximumFractionDigits: 3 });
    console.log(`  ${m.metric.padEnd(width)}  ${value.padStart(14)} ${m.unit}${m.note ? `  (${m.note})` : ''}`);
  }
  if (jsonOutput) {
    for (const m of metrics) console.log(JSON.stringify({ bench, metric: m.metric, value: m.value, unit: m.unit }));
  }
}

/** Run `fn` `count` times (or until it returns), and return operations per second. */
export function opsPerSecond(count: number, fn: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) fn(i);
  const seconds = (performance.now() - start) / 1000;
  return count / seconds;
}

/** Force a full GC if the process runs with --expose-gc, and return the used heap in bytes. */
export function heapUsedAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

/** The p-th percentile (0..100) of a sorted array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
