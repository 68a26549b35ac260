/**
 * The version zoostate reports where ZooKeeper reports its own (`srvr`, `stat`, `mntr`'s
 * `zk_version`, `envi`): `3.8.0-zoostate-<package version>, built on <date> UTC`. The
 * leading `3.8.0` is the protocol level zoostate speaks; monitoring tools parse it.
 * The build date is the modification time of the package's package.json (the install
 * or build time), read once.
 */
import { readFileSync, statSync } from 'node:fs';
import { zooKeeperVersion } from './four-letter-words.js';

/** zoostate's package version (from package.json), `0.0.0` if it cannot be read. */
export const PACKAGE_VERSION: string = readPackageVersion();

function packageJsonUrl(): URL {
  // src/server/version.ts and dist/server/version.js are both two levels below the root.
  return new URL('../../package.json', import.meta.url);
}

function readPackageVersion(): string {
  try {
    const json = JSON.parse(readFileSync(packageJsonUrl(), 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function buildTime(): number {
  try {
    return statSync(packageJsonUrl()).mtimeMs;
  } catch {
    return 0;
  }
}

let cached: string | undefined;

/** The full version line value, e.g. `3.8.0-zoostate-0.1.0, built on 2025-01-01 12:00 UTC`. */
export function fullVersion(): string {
  cached ??= zooKeeperVersion(PACKAGE_VERSION, buildTime());
  return cached;
}
