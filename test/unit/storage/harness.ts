/**
 * Harnesses that run the storage conformance suite: memory storage on a virtual clock,
 * file storage on a virtual clock without fsync (fully deterministic), and file storage
 * with fsync on the real clock. Temp directories live under os.tmpdir().
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { FileStorage, type FileStorageOptions } from '../../../src/storage/file.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import type { StorageHarness } from './conformance.js';

/** A fresh temp directory for one test. */
export function tempDir(): string {
  return fs.mkdtempSync(join(tmpdir(), 'zoostate-storage-'));
}

/** Remove a temp directory. */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

async function virtualUntil(clock: VirtualClock, cond: () => boolean, what: string): Promise<void> {
  let steps = 0;
  while (!cond()) {
    if (!clock.step()) throw new Error(`idle before: ${what}`);
    if (++steps > 1_000_000) throw new Error(`too many steps before: ${what}`);
  }
}

/** Wait on the real event loop until `cond` holds (10 s at most). */
export async function realUntil(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Memory storage on a virtual clock (with a write latency when `latency` > 0). */
export function memoryHarness(latency = 0): StorageHarness {
  const clock = new VirtualClock();
  const storage = new MemoryStorage({ clock, latency });
  return {
    storage,
    until: (cond, what) => virtualUntil(clock, cond, what),
    idle: async () => clock.flush(),
    restart: () => storage,
    cleanup: async () => {},
  };
}

/** Storage failures become test failures (instead of uncaught exceptions that skip the cleanup). */
function failures(): { onError: (e: Error) => void; check: () => boolean } {
  let failure: Error | null = null;
  return {
    onError: (e) => {
      failure ??= e;
    },
    check: () => {
      if (failure) throw failure;
      return false;
    },
  };
}

/** File storage without fsync on a virtual clock: deterministic. */
export function fileVirtualHarness(options: Partial<FileStorageOptions> = {}): StorageHarness {
  const clock = new VirtualClock();
  const dir = tempDir();
  const f = failures();
  const make = (): FileStorage => new FileStorage({ dir, clock, fsync: false, segmentBytes: 2048, onError: f.onError, ...options });
  let storage = make();
  let restarts = 0;
  return {
    get storage() {
      return storage;
    },
    until: (cond, what) => virtualUntil(clock, () => f.check() || cond(), what),
    idle: async () => clock.flush(),
    // Alternate between reusing the object and a new one, as both happen in practice.
    restart: () => (++restarts % 2 === 0 ? storage : (storage = make())),
    cleanup: async () => {
      storage.close();
      removeDir(dir);
    },
  };
}

/** File storage with fsync on the real clock. */
export function fileRealHarness(options: Partial<FileStorageOptions> = {}): StorageHarness {
  const dir = tempDir();
  const f = failures();
  const make = (): FileStorage => new FileStorage({ dir, segmentBytes: 4096, onError: f.onError, ...options });
  let storage = make();
  let restarts = 0;
  return {
    get storage() {
      return storage;
    },
    until: (cond, what) => realUntil(() => f.check() || cond(), what),
    // Let in-flight fsyncs finish (nothing is expected to happen; a slow disk only makes the check weaker).
    idle: async () => {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    restart: () => (++restarts % 2 === 0 ? storage : (storage = make())),
    cleanup: async () => {
      storage.close();
      removeDir(dir);
    },
  };
}
