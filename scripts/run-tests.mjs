#!/usr/bin/env node
// Runs every *.test.ts below the given folders (or files) with node's test runner and
// the quiet summary reporter. Usage: node scripts/run-tests.mjs test/unit [more ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isFile()) {
    out.push(path);
    return out;
  }
  for (const entry of readdirSync(path).sort()) {
    const full = join(path, entry);
    if (statSync(full).isDirectory()) collect(full, out);
    else if (entry.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const roots = args.filter((a) => !a.startsWith('--'));
const files = roots.flatMap((root) => collect(root, []));
if (files.length === 0) {
  console.error(`no test files under ${roots.join(' ')}`);
  process.exit(1);
}
const reporter = new URL('./test-reporter.mjs', import.meta.url).pathname;
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-timeout=120000', `--test-reporter=${reporter}`, ...flags, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
