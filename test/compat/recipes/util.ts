/**
 * Small helpers of the recipe scenarios: waiting for conditions, and a history of who
 * believed to hold a role, checked for overlaps.
 */
import assert from 'node:assert/strict';
import type { ZooKeeperClient } from '../../../src/index.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry `check` until it passes (or rethrow after `timeoutMs`). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 15_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(stepMs);
    }
  }
}

/** Reject if `promise` does not settle within `ms` (the scenario would otherwise hang). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True if `promise` is still pending after the event loop has had `ms` to settle it. */
export async function stillPending(promise: Promise<unknown>, ms = 100): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return !settled;
}

/**
 * A history of role beliefs in the order they happened in this process (one event loop,
 * so the order is total). `begin` when a party starts believing it holds a role, `end`
 * when it stops (released, or its signal aborted).
 */
export class RoleHistory {
  readonly events: { party: string; kind: 'begin' | 'end'; token?: number }[] = [];
  private readonly active = new Set<string>();
  /** The largest number of simultaneous believers seen. */
  maxConcurrent = 0;

  begin(party: string, token?: number): void {
    this.events.push({ party, kind: 'begin', token });
    assert.ok(!this.active.has(party), `${party} began twice`);
    this.active.add(party);
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active.size);
  }

  end(party: string): void {
    if (!this.active.delete(party)) return;
    this.events.push({ party, kind: 'end' });
  }

  /** Tokens of the `begin` events, in order. */
  tokens(): number[] {
    return this.events.filter((e) => e.kind === 'begin' && e.token !== undefined).map((e) => e.token!);
  }

  /** Every believer's terms, as text, for assertion messages. */
  toString(): string {
    return this.events.map((e) => `${e.kind} ${e.party}${e.token === undefined ? '' : ` #${e.token}`}`).join('\n');
  }
}

/**
 * Children of `path` ([] if it does not exist), after a sync: in an ensemble the
 * client's server may lag behind the one that took the last write.
 */
export async function childrenOf(client: ZooKeeperClient, path: string): Promise<string[]> {
  await client.sync(path).catch(() => undefined);
  try {
    return (await client.getChildren(path)).sort();
  } catch {
    return [];
  }
}

/** Create `path` and its missing ancestors (persistent). */
export async function mkdirp(client: ZooKeeperClient, path: string): Promise<void> {
  let current = '';
  for (const segment of path.split('/').slice(1)) {
    current += `/${segment}`;
    try {
      await client.create(current);
    } catch (error) {
      if ((error as { code?: number }).code !== -110) throw error;
    }
  }
}
