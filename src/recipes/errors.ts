/**
 * Errors the recipes raise besides the client's `ZooKeeperError`s. They are also the
 * `reason` of the AbortSignals a recipe hands out with a lease or leadership, so the
 * holder's own work sees why it was stopped.
 */

/** Why a participant lost (or may have lost) its node or role. */
export type LossReason =
  /** The connection is suspended: the session may still live, the role may be lost. */
  | 'suspended'
  /** The session timeout passed while disconnected, or the session expired. */
  | 'lost'
  /** The server reported the session expired. */
  | 'expired'
  /** The client was closed. */
  | 'closed'
  /** The participant's node was deleted by someone else. */
  | 'node-deleted'
  /** The recipe (or the holder) released the role. */
  | 'released';

/** The role (lock lease, leadership, sync turn, ...) is, or may be, no longer held. */
export class RoleLostError extends Error {
  override name = 'RoleLostError';
  /** What happened. */
  readonly reason: LossReason;
  /** The recipe and path concerned. */
  readonly path: string | undefined;

  constructor(reason: LossReason, path?: string, message?: string) {
    super(message ?? `role ${reason === 'suspended' ? 'may be lost (connection suspended)' : `lost (${reason})`}${path ? ` for ${path}` : ''}`);
    this.reason = reason;
    this.path = path;
  }
}

/** A wait passed its `timeout`; the participant withdrew and left nothing behind. */
export class WaitTimeoutError extends Error {
  override name = 'TimeoutError';
  /** The timeout that passed, in ms. */
  readonly timeout: number;

  constructor(timeout: number, what = 'wait') {
    super(`${what} timed out after ${timeout} ms`);
    this.timeout = timeout;
  }
}

/** The recipe was closed while the call waited, or was used after close. */
export class RecipeClosedError extends Error {
  override name = 'RecipeClosedError';

  constructor(what = 'recipe') {
    super(`${what} is closed`);
  }
}

/** The reason a signal was aborted with, normalised to an Error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error(reason === undefined ? 'This operation was aborted' : String(reason));
  error.name = 'AbortError';
  return error;
}

/** True for the rejection of an aborted wait (ours, the client's or the platform's). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
