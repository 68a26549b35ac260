/**
 * A buffered async iterator over a recipe's events (cache changes, membership changes,
 * status-board snapshots): `for await (const e of cache.events({ signal })) ...`.
 * Events are queued until read; the iterator ends when the recipe closes, when the loop
 * breaks, or (throwing the reason) when `signal` aborts.
 */
import { abortReason } from './errors.js';

/** An async iterator of events; `close()` ends it. */
export interface EventStream<T> extends AsyncIterableIterator<T> {
  /** End the stream (same as breaking out of the loop). */
  close(): void;
}

/** The producing side of an `EventStream`. */
export interface EventSink<T> {
  /** Queue an event. */
  push(value: T): void;
  /** End the stream, normally or with an error. */
  end(error?: unknown): void;
  /** True once ended. */
  readonly ended: boolean;
}

/**
 * Create a stream and its sink. `onClose` runs once when the stream ends for any reason
 * (to unsubscribe the producer).
 */
export function eventStream<T>(onClose: () => void, signal?: AbortSignal): { stream: EventStream<T>; sink: EventSink<T> } {
  const buffer: T[] = [];
  let waiting: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | undefined;
  let ended = false;
  let failure: unknown;

  const end = (error?: unknown): void => {
    if (ended) return;
    ended = true;
    failure = error;
    signal?.removeEventListener('abort', onAbort);
    onClose();
    if (waiting !== undefined) {
      const w = waiting;
      waiting = undefined;
      if (error === undefined) w.resolve({ value: undefined, done: true });
      else w.reject(error);
    }
  };
  const onAbort = (): void => end(abortReason(signal!));

  const sink: EventSink<T> = {
    push(value) {
      if (ended) return;
      if (waiting !== undefined) {
        const w = waiting;
        waiting = undefined;
        w.resolve({ value, done: false });
      } else {
        buffer.push(value);
      }
    },
    end,
    get ended() {
      return ended;
    },
  };

  const stream: EventStream<T> = {
    next() {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      if (ended) return failure === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    return() {
      buffer.length = 0;
      failure = undefined;
      end();
      return Promise.resolve({ value: undefined, done: true });
    },
    close() {
      void stream.return!();
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };

  if (signal?.aborted) end(abortReason(signal));
  else signal?.addEventListener('abort', onAbort, { once: true });
  return { stream, sink };
}
