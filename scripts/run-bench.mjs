#!/usr/bin/env node
// Runs every benchmark (bench/<name>/index.ts), each in its own process so heap numbers
// are clean. Flags are passed through (e.g. --json). Usage: npm run bench [-- --json] [names...]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const wanted = args.filter((a) => !a.startsWith('--'));
const benchDir = new URL('../bench/', import.meta.url).pathname;
const names = readdirSync(benchDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(benchDir, d.name, 'index.ts')))
  .map((d) => d.name)
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();
let status = 0;
for (const name of names) {
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', join(benchDir, name, 'index.ts'), ...flags],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) {
    console.error(`bench ${name} failed with status ${result.status}`);
    status = 1;
  }
}
process.exit(status);
