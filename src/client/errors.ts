/**
 * Client-side errors that are not ZooKeeper error codes.
 */

/**
 * The operation's wait was cancelled through its AbortSignal (the same shape as Node's
 * own `AbortError`: name `AbortError`, code `ABORT_ERR`, the signal's reason as cause).
 * The session is unaffected: a reply that still arrives is dropped.
 */
export class AbortError extends Error {
  /** Always `ABORT_ERR`. */
  readonly code = 'ABORT_ERR';

  constructor(reason?: unknown) {
    super('The operation was aborted', reason === undefined ? undefined : { cause: reason });
    this.name = 'AbortError';
  }
}

/** True for an `AbortError` (ours or Node's). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
