/**
 * A shared counter (Curator's `SharedCount`): one integer in one node, read by everyone,
 * changed with versioned compare-and-set.
 *
 * ```ts
 * const counter = new SharedCounter(client, '/app/counters/visits', 0);
 * await counter.start();
 * counter.on('change', (value) => console.log('now', value));
 * await counter.add(1);                                  // CAS loop
 * const ok = await counter.trySetCount(counter.versioned, 42); // one CAS attempt
 * await counter.close();
 * ```
 *
 * How: the value is a 4-byte big-endian int32 (Curator's encoding, so both libraries
 * share counters) in a persistent node; `trySetCount` is `setData` with the version the
 * caller read, so it fails (false) if anyone wrote in between. The local copy is kept
 * current by a persistent watch on the node.
 *
 * Guarantees and failure behaviour:
 * - `trySetCount` succeeds only against the latest version: no lost updates. `add`
 *   retries on conflicts until it wins (or `signal`/`timeout` end it).
 * - A persistent watch has no catch-up events after a reconnect, so on RECONNECTED (and
 *   after a LOST whose session survives) the counter reads the node again (mirror.ts)
 *   and emits `change` if it moved. `close()` removes the watch.
 */
import { EventEmitter } from 'eventemitter3';
import type { Watcher } from '../client/types.js';
import { AddWatchMode, CreateMode } from '../protocol/constants.js';
import { BadVersionError, NoNodeError, NodeExistsError } from '../protocol/errors.js';
import { RecipeClosedError } from './errors.js';
import { PersistentMirror } from './mirror.js';
import type { Participant } from './participant.js';
import { createWithParents, recipeEnv, type RecipeClient, type RecipeEnv, type RecipeOptions } from './support.js';
import { WaitScope, type WaitOptions } from './wait.js';

/** A value with the node version it was read at. */
export interface VersionedValue {
  value: number;
  version: number;
}

/** Events of a `SharedCounter`. */
export interface SharedCounterEvents {
  /** The value changed (seen through the watch or after a reconnect). */
  change: [value: number];
  /** A background read failed. */
  error: [error: unknown];
}

/** Encode an int32 as 4 big-endian bytes. */
export function encodeCount(value: number): Buffer {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new RangeError(`count must be a 32-bit integer, got ${value}`);
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
}

/** Decode 4 big-endian bytes (anything else reads as 0). */
export function decodeCount(data: Uint8Array | null): number {
  if (data === null || data.length !== 4) return 0;
  return Buffer.from(data.buffer, data.byteOffset, 4).readInt32BE(0);
}

/** A shared counter; see the file header. */
export class SharedCounter extends EventEmitter<SharedCounterEvents> {
  private readonly env: RecipeEnv;
  private readonly mirror: PersistentMirror<never>;
  private current: VersionedValue | undefined;
  private readonly watcher: Watcher = (event) => {
    if (event.type === 'NodeDataChanged' || event.type === 'NodeCreated' || event.type === 'NodeDeleted') void this.refresh();
  };
  private reads = 0;

  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    readonly seed = 0,
    options: RecipeOptions = {},
  ) {
    super();
    this.env = recipeEnv(options);
    this.mirror = new PersistentMirror(client, path, {
      recipe: 'sharedCount',
      env: this.env,
      mode: AddWatchMode.PERSISTENT,
      watcher: this.watcher,
      resync: () => this.refresh(),
      onError: (error) => this.report(error),
    });
  }

  /** The counter's participant machine (`sharedCount`). */
  get participant(): Participant {
    return this.mirror.participant;
  }

  /** Create the node with the seed if missing, read it and start watching. */
  async start(): Promise<void> {
    await this.mirror.start(async () => {
      try {
        await createWithParents(this.client, this.path, encodeCount(this.seed), CreateMode.PERSISTENT);
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
      }
      await this.refresh();
    });
  }

  /** The last value seen (the seed before `start`). */
  get count(): number {
    return this.current?.value ?? this.seed;
  }

  /** The last value seen with its version, for `trySetCount`. */
  get versioned(): VersionedValue {
    return this.current ?? { value: this.seed, version: -1 };
  }

  /** Read the value from the server. */
  async read(): Promise<VersionedValue> {
    const { data, stat } = await this.client.getData(this.path);
    return { value: decodeCount(data), version: stat.version };
  }

  /** Set `value` if the node is still at `previous.version`; false if someone wrote first. */
  async trySetCount(previous: VersionedValue, value: number): Promise<boolean> {
    this.assertOpen();
    try {
      const stat = await this.client.setData(this.path, encodeCount(value), { version: previous.version });
      this.apply({ value, version: stat.version });
      return true;
    } catch (error) {
      if (error instanceof BadVersionError) {
        void this.refresh();
        return false;
      }
      throw error;
    }
  }

  /** Set `value` unconditionally. */
  async setCount(value: number): Promise<void> {
    this.assertOpen();
    const stat = await this.client.setData(this.path, encodeCount(value));
    this.apply({ value, version: stat.version });
  }

  /** Add `delta` with a CAS loop; resolves to the new value. */
  async add(delta: number, options: WaitOptions = {}): Promise<number> {
    const scope = new WaitScope(this.env.clock, options, 'SharedCounter.add');
    try {
      for (;;) {
        scope.throwIfAborted();
        const now = await scope.race(this.read());
        if (await scope.race(this.trySetCount(now, now.value + delta))) return now.value + delta;
      }
    } finally {
      scope.dispose();
    }
  }

  /** Stop watching. */
  close(): Promise<void> {
    return this.mirror.close();
  }

  private get closed(): boolean {
    const phase = this.participant.phase;
    return phase === 'left' || phase === 'leaving';
  }

  private async refresh(): Promise<void> {
    if (this.closed) return;
    const ticket = ++this.reads;
    try {
      const value = await this.read();
      if (ticket === this.reads) this.apply(value);
    } catch (error) {
      if (error instanceof NoNodeError || this.closed) return;
      this.report(error);
    }
  }

  private report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private apply(value: VersionedValue): void {
    const before = this.current;
    if (before !== undefined && value.version < before.version) return; // an older read
    this.current = value;
    if (before === undefined || before.value !== value.value) this.emit('change', value.value);
  }

  /** Writing after close is an error. */
  private assertOpen(): void {
    if (this.participant.phase === 'left') throw new RecipeClosedError('SharedCounter');
  }
}
