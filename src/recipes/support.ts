/**
 * Plumbing shared by the recipes, written against the client's public API only:
 * paths, parent creation, protected creates, quiet deletes and watch removal, and the
 * mapping from connection states to participant events.
 */
import type { ZooKeeperClient } from '../client/client.js';
import { createAncestors, randomUuid } from '../client/protected.js';
import type { ConnectionState, CreateResult, Data, Watcher } from '../client/types.js';
import { CreateMode, WatcherType } from '../protocol/constants.js';
import { ConnectionLossError, ErrorCode, NoNodeError, ZooKeeperError } from '../protocol/errors.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { systemRandom, type Random } from '../runtime/random.js';
import type { Inspector, Participant } from './participant.js';

/** The client the recipes run on (zoostate's client, over TCP or in-process). */
export type RecipeClient = ZooKeeperClient;

/** Options every recipe accepts. */
export interface RecipeOptions {
  /** Clock for timeouts and machine delays; pass the client's clock (default `systemClock`). */
  clock?: Clock;
  /** XState inspector for the recipe's participant machines. */
  inspect?: Inspector;
  /** Randomness for protected-name GUIDs (default OS-seeded). */
  random?: Random;
}

/** Resolved recipe options. */
export interface RecipeEnv {
  clock: Clock;
  inspect: Inspector | undefined;
  random: Random;
}

/** Fill in the defaults of `RecipeOptions`. */
export function recipeEnv(options: RecipeOptions = {}): RecipeEnv {
  return { clock: options.clock ?? systemClock, inspect: options.inspect, random: options.random ?? systemRandom() };
}

/** `dir` + `/` + `name` (no double slash under the root). */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The last segment of a path. */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The parent of a path (`/` for top-level nodes). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** True if `error` is a ZooKeeperError with `code`. */
export function hasCode(error: unknown, code: number): boolean {
  return error instanceof ZooKeeperError && error.code === code;
}

/** True if the session has ended (expired, closed, auth failed): retrying is pointless. */
export function isSessionEnded(error: unknown): boolean {
  return hasCode(error, ErrorCode.SessionExpired) || hasCode(error, ErrorCode.AuthFailed);
}

/**
 * Create `path` and its missing ancestors. Recipe directories are containers by default
 * (as Curator's `creatingParentContainersIfNeeded`): the server deletes them once empty,
 * so recipes leave no directories behind either; an existing node is left as it is.
 */
export function ensurePath(client: RecipeClient, path: string, mode: CreateMode = CreateMode.CONTAINER): Promise<void> {
  return createAncestors(client, path, mode);
}

/**
 * Create `path`, creating missing ancestors as containers. A container ancestor can be
 * reaped by the server between the two steps (it is empty then), so NoNode is retried.
 */
export async function createWithParents(client: RecipeClient, path: string, data: Data, mode: CreateMode): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.create(path, data, { mode });
      return;
    } catch (error) {
      if (!(error instanceof NoNodeError) || attempt >= 10) throw error;
      await ensurePath(client, parentPath(path));
    }
  }
}

/** A created node. */
export type CreatedNode = CreateResult;

/**
 * The client's protected create (`createProtectedSequential`) of `dir/_c_<uuid>-<name>`
 * with the recipe's randomness for the GUID and container parents: a create whose reply
 * is lost is found again, never duplicated; retries go on while the session lives or
 * until `signal` aborts (a node an abandoned attempt made is deleted in the background).
 */
export function protectedCreate(
  client: RecipeClient,
  dir: string,
  name: string,
  data: Data,
  options: { mode: CreateMode; random: Random; signal?: AbortSignal; timeout?: number },
): Promise<CreatedNode> {
  return client.createProtectedSequential(joinPath(dir, name), data, {
    mode: options.mode,
    signal: options.signal,
    timeout: options.timeout,
    createParents: 'containers',
    protectionId: randomUuid(options.random),
    stat: true,
  });
}

/**
 * Delete `path`, ignoring NoNode (and BadVersion when a `version` is given). A
 * ConnectionLoss is retried after the reconnect; when the session has ended the call
 * returns, since the server removes a session's ephemerals itself. Resolves to true if
 * this call deleted the node.
 */
export async function deleteQuietly(client: RecipeClient, path: string, version = -1): Promise<boolean> {
  for (;;) {
    try {
      await client.delete(path, { version });
      return true;
    } catch (error) {
      if (error instanceof NoNodeError || hasCode(error, ErrorCode.BadVersion)) return false;
      if (!(error instanceof ConnectionLossError)) {
        if (isSessionEnded(error)) return false;
        throw error;
      }
    }
    try {
      await client.waitUntilConnected();
    } catch {
      return false; // the session ended
    }
  }
}

/**
 * Remove one watcher this recipe registered (client side, and on the server when it is
 * the path's last watcher). Quiet: a watcher that already fired or a session that ended
 * is fine.
 */
export async function removeWatcherQuietly(client: RecipeClient, path: string, type: WatcherType, watcher: Watcher): Promise<void> {
  try {
    await client.removeWatches(path, type, { watcher, local: true });
  } catch {
    // NoWatcher (it fired meanwhile), or the session ended: nothing is left either way.
  }
}

/** True if `path` exists and is an ephemeral of this client's session. */
export async function ownsNode(client: RecipeClient, path: string): Promise<boolean> {
  const stat = await client.exists(path);
  return stat !== null && stat.ephemeralOwner === client.sessionId;
}

/**
 * Forward the client's connection states to `participant` (SUSPENDED, RECONNECTED,
 * LOST, ...) and, after a reconnect, run `verify` while the participant is verifying:
 * VERIFIED if it resolves true, NODE_GONE if false. READ_ONLY counts as SUSPENDED: a
 * read-only server is cut off from the quorum, so roles cannot be trusted. Returns the
 * unsubscribe function.
 */
export function bindConnection(
  client: RecipeClient,
  participant: Participant,
  verify: () => Promise<boolean>,
  onState?: (state: ConnectionState) => void,
): () => void {
  let verifying = false;
  const runVerify = async (): Promise<void> => {
    if (verifying) return;
    verifying = true;
    try {
      while (participant.status.substate === 'verifying') {
        try {
          participant.send({ type: (await verify()) ? 'VERIFIED' : 'NODE_GONE' });
        } catch (error) {
          if (!(error instanceof ConnectionLossError)) {
            participant.send(isSessionEnded(error) ? { type: 'LOST', reason: 'expired' } : { type: 'NODE_GONE' });
          }
          return; // ConnectionLoss: SUSPENDED follows, then RECONNECTED runs this again
        }
      }
    } finally {
      verifying = false;
    }
  };
  const listener = (state: ConnectionState): void => {
    switch (state) {
      case 'SUSPENDED':
      case 'READ_ONLY':
        participant.send({ type: 'SUSPENDED' });
        break;
      case 'RECONNECTED':
      case 'CONNECTED':
        participant.send({ type: 'RECONNECTED' });
        void runVerify();
        break;
      case 'LOST':
        participant.send({ type: 'LOST', reason: 'lost' });
        break;
      case 'EXPIRED':
        participant.send({ type: 'LOST', reason: 'expired' });
        break;
      case 'CLOSED':
      case 'AUTH_FAILED':
        participant.send({ type: 'CLOSED' });
        break;
    }
    onState?.(state);
  };
  client.on('state', listener);
  // A client that is not connected right now starts the participant suspended.
  if (client.state !== 'CONNECTED') listener(client.state === 'EXPIRED' ? 'EXPIRED' : client.state === 'CLOSED' || client.state === 'CLOSING' ? 'CLOSED' : 'SUSPENDED');
  return () => client.off('state', listener);
}

/** JSON to bytes. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value ?? null), 'utf8');
}

/** Bytes to JSON (undefined for empty or unparsable data). */
export function decodeJson<T>(data: Uint8Array | null): T | undefined {
  if (data === null || data.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * One one-shot watch of a recipe, remembering whether it fired. The client hands a watch
 * event to its watcher synchronously but resolves the read that registered it a
 * microtask later, so the event can come before the code after `await` runs: a watch
 * must never be assumed pending just because its read returned.
 */
export class OneShotWatch {
  /** Set once the read that registers the watch succeeded. */
  registered = false;
  /** Set when the watch fired (or the session ended). */
  fired = false;
  /** Pass this as the read's `watch`. */
  readonly watcher: Watcher;

  constructor(
    readonly path: string,
    readonly type: WatcherType,
    onFire: () => void,
  ) {
    this.watcher = () => {
      this.fired = true;
      onFire();
    };
  }

  /** Registered and not fired: the server still holds it. */
  get pending(): boolean {
    return this.registered && !this.fired;
  }

  /** Remove it if it is still pending (quietly). */
  async remove(client: RecipeClient): Promise<void> {
    if (this.pending) {
      this.fired = true;
      await removeWatcherQuietly(client, this.path, this.type, this.watcher);
    }
  }
}
