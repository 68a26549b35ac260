#!/usr/bin/env node
// The `zoostate` command. Runs the compiled CLI from dist/ when the package is built,
// otherwise the TypeScript sources through tsx (a fresh clone after `npm install`).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
