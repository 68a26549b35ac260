/**
 * Helpers of the session-layer tests: in-process ensembles on a VirtualClock, the real
 * client through the in-process channel, and async drivers that step the clock while
 * promise callbacks run.
 */
import assert from 'node:assert/strict';
import type { ZooKeeperClient } from '../../../src/client/client.js';
import { ConnectionLossError } from '../../../src/protocol/errors.js';
import type { ConnectionSink } from '../../../src/server/connection.js';
import type { ConnectRequest, ConnectResponse, ReplyHeader, WatcherEvent } from '../../../src/protocol/records.js';
import { seededRandom, type Random } from '../../../src/runtime/random.js';
import { createEnsemble, type Ensemble, type EnsembleOptions } from '../../../src/server/ensemble.js';
import { InProcessLink, type InProcessClientOptions } from '../../../src/server/inproc-channel.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';

/** A deterministic ensemble on a fresh VirtualClock, already serving. */
export async function serving(options: EnsembleOptions = {}, seed = 1): Promise<{ ensemble: Ensemble; clock: VirtualClock }> {
  const clock = new VirtualClock(1_000_000);
  const ensemble = createEnsemble({ servers: 3, clock, random: seededRandom(seed), ...options });
  await waitFor(clock, () => ensemble.allServing(), 20_000, 'every server serving');
  return { ensemble, clock };
}

async function yieldMicrotasks(): Promise<void> {
  for (let i = 0; i < 6; i++) await null;
}

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Step the clock until `promise` settles; fails after `withinMs` of virtual time. */
export async function until<T>(clock: VirtualClock, promise: Promise<T>, withinMs = 60_000): Promise<T> {
  let state = 0;
  let value: T | undefined;
  let error: unknown;
  promise.then(
    (v) => {
      state = 1;
      value = v;
    },
    (e: unknown) => {
      state = 2;
      error = e;
    },
  );
  const deadline = clock.now() + withinMs;
  let steps = 0;
  for (;;) {
    await yieldMicrotasks();
    if (state === 0 && (++steps & 255) === 0) await macrotask();
    if (state !== 0) break;
    const next = clock.nextDeadline();
    if (next === undefined || next > deadline) {
      await macrotask();
      if (state !== 0) break;
      throw new Error(`not settled within ${withinMs} ms of virtual time`);
    }
    clock.step();
  }
  if (state === 2) throw error;
  return value as T;
}

/** Step the clock until `condition` holds. */
export async function waitFor(clock: VirtualClock, condition: () => boolean, withinMs = 60_000, what = 'condition'): Promise<void> {
  const deadline = clock.now() + withinMs;
  let steps = 0;
  while (!condition()) {
    await yieldMicrotasks();
    if ((++steps & 255) === 0) await macrotask();
    if (condition()) return;
    const next = clock.nextDeadline();
    if (next === undefined || next > deadline) {
      await macrotask();
      if (condition()) return;
      assert.fail(`${what} not reached within ${withinMs} ms (virtual)`);
    }
    clock.step();
  }
}

/** Let `ms` of virtual time pass, running everything due (promise callbacks included). */
export async function pass(clock: VirtualClock, ms: number): Promise<void> {
  const target = clock.now() + ms;
  let steps = 0;
  for (;;) {
    await yieldMicrotasks();
    if ((++steps & 255) === 0) await macrotask();
    const next = clock.nextDeadline();
    if (next === undefined || next > target) break;
    clock.step();
  }
  clock.advanceTo(target);
  await yieldMicrotasks();
}

/** A connected in-process client (with its own link for fault injection). */
export async function connect(
  ensemble: Ensemble,
  clock: VirtualClock,
  options: InProcessClientOptions = {},
): Promise<{ client: ZooKeeperClient; link: InProcessLink }> {
  const link = options.link ?? new InProcessLink(ensemble);
  const client = ensemble.client({ sessionTimeout: 6000, reconnectDelay: 50, spinDelay: 100, ...options, link });
  client.on('error', () => {});
  await until(clock, client.waitUntilConnected());
  return { client, link };
}

/** Close clients and the ensemble, stepping the clock so the closes complete. */
export async function shutdown(clock: VirtualClock, ensemble: Ensemble, clients: ZooKeeperClient[]): Promise<void> {
  await until(clock, Promise.all(clients.map((c) => c.close().catch(() => {}))), 120_000).catch(() => {});
  const closing = ensemble.close();
  await until(clock, closing, 60_000).catch(() => {});
}

/** What a raw connection's sink received, in order. */
export type Received =
  | { kind: 'connect'; response: ConnectResponse }
  | { kind: 'reply'; header: ReplyHeader; opcode: number; response: unknown }
  | { kind: 'notification'; event: WatcherEvent }
  | { kind: 'close'; reason: string };

/** A sink that records everything (for tests that speak to a `ClientService` directly). */
export function recordingSink(): ConnectionSink & { received: Received[]; closed: boolean } {
  const received: Received[] = [];
  const sink = {
    received,
    closed: false,
    connectResponse(response: ConnectResponse) {
      received.push({ kind: 'connect', response });
    },
    reply(header: ReplyHeader, opcode: number, response?: unknown) {
      received.push({ kind: 'reply', header, opcode, response });
    },
    notification(event: WatcherEvent) {
      received.push({ kind: 'notification', event });
    },
    close(reason: string) {
      sink.closed = true;
      received.push({ kind: 'close', reason });
    },
  };
  return sink;
}

/** A ConnectRequest. */
export function connectRequest(overrides: Partial<ConnectRequest> = {}): ConnectRequest {
  return { protocolVersion: 0, lastZxidSeen: 0, timeOut: 6000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false, ...overrides };
}

/** A "random" source that keeps a client's host list in the order written (int(n) = n - 1). */
export function inOrder(): Random {
  const random: Random = { next: () => 0.5, int: (max) => Math.max(0, max - 1), chance: () => false, fork: () => random };
  return random;
}

/** Run `op` until it does not fail with ConnectionLoss (a server change in progress), stepping the clock. */
export async function retrying<T>(clock: VirtualClock, op: () => Promise<T>, withinMs = 30_000): Promise<T> {
  const deadline = clock.now() + withinMs;
  for (;;) {
    try {
      return await until(clock, op(), Math.max(1, deadline - clock.now()));
    } catch (error) {
      if (!(error instanceof ConnectionLossError) || clock.now() >= deadline) throw error;
      await pass(clock, 50);
    }
  }
}
