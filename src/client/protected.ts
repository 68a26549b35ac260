/**
 * The protected create (Apache Curator's "protection"): a create whose reply is lost to
 * a ConnectionLoss has an unknown outcome, and for a sequential node the server chose a
 * name the client never learned. So the name carries a fresh GUID,
 * `<parent>/_c_<uuid>-<name>[<sequence>]`, and after a ConnectionLoss the client waits
 * for the session to reconnect, lists the parent and looks for a child with that GUID:
 * found means the create happened (the node is adopted, never created twice); not found
 * means it can be retried safely.
 *
 * Retries are bounded by the session, not by a count: they go on while the session
 * lives (through SUSPENDED and LOST, which may still reconnect) and stop when it ends
 * (SessionExpired), when the caller's `signal` aborts or the `timeout` passes. A caller
 * that gives up while a create may have been applied gets no node back, so the node
 * made under its GUID is deleted in the background once the session is connected again
 * (Curator's `findAndDeleteProtectedNodeInBackground`).
 *
 * The name format matches Curator's (`_c_` + a 36-character UUID + `-`), so nodes written
 * by Curator and by zoostate on the same paths parse alike.
 */
import { CreateMode, isSequentialMode } from '../protocol/constants.js';
import { BadArgumentsError, ConnectionLossError, NoNodeError, NodeExistsError, OperationTimeoutError } from '../protocol/errors.js';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { ProtectedCreateOptions, ZooKeeperClient } from './client.js';
import { isAbortError } from './errors.js';
import { basenameOf, parentOf, validatePath } from './paths.js';
import type { CreateResult, Data } from './types.js';

/** Curator's prefix of protected names. */
export const PROTECTED_PREFIX = '_c_';

const UUID_LENGTH = 36;
/** `_c_` + uuid + `-`. */
const PROTECTED_HEAD_LENGTH = PROTECTED_PREFIX.length + UUID_LENGTH + 1;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Consecutive NoNode answers tolerated while creating parents (containers may be reaped meanwhile). */
const MAX_PARENT_ATTEMPTS = 10;

/** A version-4 UUID drawn from `random` (deterministic under a seeded Random). */
export function randomUuid(random: Random): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = random.int(256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** True if `id` is a UUID (the only ids Curator and `parseProtectedName` recognise). */
export function isUuid(id: string): boolean {
  return UUID_PATTERN.test(id);
}

/** `_c_<id>-<name>`: the name a protected create asks for. */
export function protectedName(id: string, name: string): string {
  return `${PROTECTED_PREFIX}${id}-${name}`;
}

/** `/a/b/lock-` with id `u` → `/a/b/_c_u-lock-`. */
export function protectedPath(path: string, id: string): string {
  const parent = parentOf(path);
  const name = protectedName(id, basenameOf(path));
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The child of `children` created under protection id `id` (compared case-insensitively), if any. */
export function findProtectedChild(children: readonly string[], id: string): string | undefined {
  const prefix = protectedName(id, '').toLowerCase();
  return children.find((child) => child.length >= prefix.length && child.slice(0, prefix.length).toLowerCase() === prefix);
}

/** A protected name, split. */
export interface ProtectedParts {
  /** The UUID of the create that made the node. */
  id: string;
  /** What follows the head: the requested name plus, for sequential nodes, the counter. */
  rest: string;
}

/** Split `_c_<uuid>-rest`; undefined if `name` is not protected (with a UUID). */
export function parseProtectedName(name: string): ProtectedParts | undefined {
  if (name.length < PROTECTED_HEAD_LENGTH || !name.startsWith(PROTECTED_PREFIX)) return undefined;
  if (name.charCodeAt(PROTECTED_HEAD_LENGTH - 1) !== 0x2d /* - */) return undefined;
  const id = name.slice(PROTECTED_PREFIX.length, PROTECTED_HEAD_LENGTH - 1);
  if (!isUuid(id)) return undefined;
  return { id, rest: name.slice(PROTECTED_HEAD_LENGTH) };
}

/** `name` without a protected head (unchanged if it has none). */
export function stripProtectedPrefix(name: string): string {
  return parseProtectedName(name)?.rest ?? name;
}

/** What a protected create draws on besides the client: the client's clock and randomness. */
export interface ProtectedCreateEnv {
  clock: Clock;
  random: Random;
}

/**
 * The protected create behind `ZooKeeperClient.createProtectedSequential`; see the file
 * header. Resolves to the path, or `{ path, stat }` with `options.stat`.
 */
export async function createProtected(
  client: ZooKeeperClient,
  env: ProtectedCreateEnv,
  path: string,
  data: Data | undefined,
  options: ProtectedCreateOptions,
): Promise<CreateResult | string> {
  const mode = options.mode ?? CreateMode.EPHEMERAL_SEQUENTIAL;
  validatePath(path, isSequentialMode(mode));
  const id = options.protectionId ?? randomUuid(env.random);
  if (!isUuid(id)) throw new BadArgumentsError(path, `protectionId must be a UUID, got ${JSON.stringify(id)}`);
  const target = protectedPath(path, id);
  const parent = parentOf(target);
  const wantStat = options.stat === true;
  const scope = new GiveUp(env.clock, options, path);
  const { signal } = scope;
  // True while a create may have been applied without us knowing its name.
  let unknown = false;
  let parentAttempts = 0;
  try {
    for (;;) {
      try {
        unknown = true;
        const created = await client.create(target, data ?? null, { mode, acl: options.acl, ttl: options.ttl, signal, stat: true as const });
        return wantStat ? created : created.path;
      } catch (error) {
        if (error instanceof NoNodeError && options.createParents !== undefined && parentAttempts++ < MAX_PARENT_ATTEMPTS) {
          unknown = false;
          const parentMode = options.createParents === 'persistent' ? CreateMode.PERSISTENT : CreateMode.CONTAINER;
          await createAncestors(client, parent, parentMode, signal);
          continue;
        }
        // A non-sequential name that exists already was made by an earlier attempt (the GUID is ours).
        const ours = error instanceof NodeExistsError && !isSequentialMode(mode);
        if (!(error instanceof ConnectionLossError) && !ours) {
          if (!isAbortError(error)) unknown = false;
          throw error;
        }
      }
      // The outcome is unknown: was the node made?
      const found = await untilConnected(client, signal, async () => {
        try {
          // The lost attempt may still be in flight at the leader. A sync first: the
          // leader answers it only after the proposals outstanding when it arrived are
          // committed, and an attempt arriving after the session moved here is refused
          // (SessionMoved). Without it the listing can miss the node and a retry makes
          // a second one.
          await client.sync(parent, { signal });
          return findProtectedChild(await client.getChildren(parent, { signal }), id);
        } catch (error) {
          if (error instanceof NoNodeError) return undefined; // no parent: no node either
          throw error;
        }
      });
      if (found !== undefined) {
        const foundPath = parent === '/' ? `/${found}` : `${parent}/${found}`;
        if (!wantStat) return foundPath;
        const stat = await untilConnected(client, signal, () => client.exists(foundPath, { signal }));
        if (stat === null) {
          unknown = false;
          throw new NoNodeError(foundPath, 'the protected node was created and deleted again');
        }
        return { path: foundPath, stat };
      }
      unknown = false;
    }
  } catch (error) {
    if (unknown) void deleteProtectedChild(client, parent, id);
    throw scope.translate(error);
  } finally {
    scope.dispose();
  }
}

/**
 * Create `path` and its missing ancestors with `mode` (containers by default, as
 * Curator's `creatingParentContainersIfNeeded`: the server removes them once empty);
 * existing nodes are left as they are. ConnectionLoss is retried once reconnected
 * (a create applied before the loss shows as NodeExists, which is fine).
 */
export async function createAncestors(client: ZooKeeperClient, path: string, mode: CreateMode = CreateMode.CONTAINER, signal?: AbortSignal): Promise<void> {
  if (path === '/') return;
  let current = '';
  for (const segment of path.split('/').slice(1)) {
    current += `/${segment}`;
    const node = current;
    await untilConnected(client, signal, async () => {
      try {
        await client.create(node, null, { mode, signal });
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
      }
    });
  }
}

/** Run `op` once connected; after a ConnectionLoss wait for the reconnect and run it again. */
async function untilConnected<T>(client: ZooKeeperClient, signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
  for (;;) {
    await client.waitUntilConnected({ signal });
    try {
      return await op();
    } catch (error) {
      if (!(error instanceof ConnectionLossError)) throw error;
    }
  }
}

/** Delete the child of `parent` made under `id`, once connected (quiet: the session may end first). */
async function deleteProtectedChild(client: ZooKeeperClient, parent: string, id: string): Promise<void> {
  try {
    await untilConnected(client, undefined, async () => {
      await client.sync(parent); // see createProtected: an attempt may still be in flight
      const found = findProtectedChild(await client.getChildren(parent), id);
      if (found === undefined) return;
      try {
        await client.delete(parent === '/' ? `/${found}` : `${parent}/${found}`);
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    });
  } catch {
    // The session ended (its ephemerals went with it) or the parent is gone.
  }
}

/** The caller's signal and timeout as one signal, on the client's clock. */
class GiveUp {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: TimerHandle | undefined;
  private readonly unlink: (() => void) | undefined;
  private timedOut: OperationTimeoutError | undefined;

  constructor(
    private readonly clock: Clock,
    options: ProtectedCreateOptions,
    path: string,
  ) {
    this.signal = this.controller.signal;
    const parent = options.signal;
    if (parent?.aborted) this.controller.abort(parent.reason);
    else if (parent !== undefined) {
      const onAbort = (): void => this.controller.abort(parent.reason);
      parent.addEventListener('abort', onAbort, { once: true });
      this.unlink = () => parent.removeEventListener('abort', onAbort);
    }
    const { timeout } = options;
    if (timeout !== undefined && !this.signal.aborted) {
      if (!(timeout >= 0)) throw new RangeError(`timeout must be >= 0, got ${timeout}`);
      this.timer = clock.setTimeout(() => {
        this.timedOut = new OperationTimeoutError(path, `protected create of ${path} gave up after ${timeout} ms`);
        this.controller.abort(this.timedOut);
      }, timeout);
    }
  }

  /** The abort of a timed-out wait becomes the OperationTimeoutError. */
  translate(error: unknown): unknown {
    return this.timedOut !== undefined && isAbortError(error) ? this.timedOut : error;
  }

  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.unlink?.();
  }
}
