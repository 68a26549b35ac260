/**
 * A watch as an async iterator, backed by a persistent (or persistent-recursive) watch:
 *
 * ```ts
 * for await (const event of client.watch('/config', { recursive: true, signal })) { ... }
 * ```
 *
 * Events are buffered until read. The iterator ends normally when the loop breaks
 * (`return()`), the client is closed, or the watch is removed; it throws an `AbortError`
 * when `signal` aborts, `SessionExpiredError` when the session expires and
 * `AuthFailedError` when authentication fails — so a watch never just goes quiet.
 * Leaving the loop removes the server-side watch.
 */
import { AuthFailedError, SessionExpiredError } from '../protocol/errors.js';
import { AbortError } from './errors.js';
import type { WatchEvent, Watcher } from './types.js';

/** The iterator returned by `client.watch()`. */
export interface WatchStream extends AsyncIterableIterator<WatchEvent> {
  /** Resolves once the server has registered the watch (events from then on are seen). */
  readonly ready: Promise<void>;
  /** End the stream and remove its watch (same as breaking out of the loop). */
  close(): Promise<void>;
}

/** How the stream registers and removes its watch. */
export interface WatchStreamHooks {
  /** Register `listener`; resolves once the server has the watch. */
  register(listener: Watcher, signal: AbortSignal | undefined): Promise<void>;
  /** Remove `listener` (best effort). */
  unregister(listener: Watcher): Promise<void>;
}

/** Build a stream; registration starts immediately. */
export function createWatchStream(hooks: WatchStreamHooks, signal: AbortSignal | undefined): WatchStream {
  const buffer: WatchEvent[] = [];
  let waiting: { resolve(result: IteratorResult<WatchEvent>): void; reject(error: unknown): void } | undefined;
  let finished = false;
  let failure: unknown;
  let registered = false;

  const finish = (error?: unknown): void => {
    if (finished) return;
    finished = true;
    failure = error;
    signal?.removeEventListener('abort', onAbort);
    if (registered) {
      registered = false;
      void hooks.unregister(listener).catch(() => {});
    }
    if (waiting !== undefined && buffer.length === 0) {
      const w = waiting;
      waiting = undefined;
      if (error === undefined) w.resolve({ value: undefined, done: true });
      else w.reject(error);
    }
  };

  const listener: Watcher = (event) => {
    if (finished) return;
    if (event.type === 'None') {
      registered = false; // the session ended: nothing to remove
      finish(event.state === 'Expired' ? new SessionExpiredError(event.path) : event.state === 'AuthFailed' ? new AuthFailedError(event.path) : undefined);
      return;
    }
    if (event.type === 'PersistentWatchRemoved') {
      registered = false;
      finish();
      return;
    }
    if (waiting !== undefined) {
      const w = waiting;
      waiting = undefined;
      w.resolve({ value: event, done: false });
    } else {
      buffer.push(event);
    }
  };

  const onAbort = (): void => finish(new AbortError(signal!.reason));

  let ready: Promise<void>;
  if (signal?.aborted) {
    ready = Promise.reject(new AbortError(signal.reason));
    finish(new AbortError(signal.reason));
  } else {
    signal?.addEventListener('abort', onAbort, { once: true });
    ready = hooks.register(listener, signal).then(
      () => {
        if (finished) void hooks.unregister(listener).catch(() => {});
        else registered = true;
      },
      (error: unknown) => {
        finish(error);
        throw error;
      },
    );
  }
  ready.catch(() => {}); // the failure also surfaces through next()

  const stream: WatchStream = {
    ready,
    next(): Promise<IteratorResult<WatchEvent>> {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      if (finished) return failure === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    return(): Promise<IteratorResult<WatchEvent>> {
      buffer.length = 0;
      failure = undefined;
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    async close(): Promise<void> {
      await stream.return!();
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
