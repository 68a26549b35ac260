/**
 * The queue every lock-like recipe stands in (Curator's `LockInternals`): create a
 * protected ephemeral-sequential node under a directory, list the directory, and either
 * hold (the position rule says so) or watch exactly one other node and look again when
 * it changes. Used by the lock, the read-write lock, the leader selector and the status
 * board's sync turns; the semaphore and the leader latch use its pieces.
 *
 * Guarantees: the node is created at most once per entry, even across ConnectionLoss
 * (protected create); a waiter registers one data watch at a time, on the node its
 * position rule names, so a release wakes one waiter; on abort, timeout, loss or error
 * the node is deleted and the watch removed before the call rejects (in the background
 * when the client is disconnected: the server removes the ephemeral with the session
 * anyway). A holder watches its own node (deletion ends the lease at once) and gives
 * the node up as soon as the lease is lost.
 */
import type { Watcher } from '../client/types.js';
import { CreateMode, WatcherType } from '../protocol/constants.js';
import { ConnectionLossError, NoNodeError } from '../protocol/errors.js';
import { RoleLostError, WaitTimeoutError } from './errors.js';
import { Lease } from './lease.js';
import { Participant } from './participant.js';
import { queuePosition, sortSequential, type QueuePosition, type SequentialNode } from './sequence.js';
import {
  bindConnection,
  decodeJson,
  deleteQuietly,
  joinPath,
  nameOf,
  ownsNode,
  protectedCreate,
  OneShotWatch,
  removeWatcherQuietly,
  type CreatedNode,
  type RecipeClient,
  type RecipeEnv,
} from './support.js';
import { WaitScope, Wakeup, type WaitOptions } from './wait.js';

/** Where a node stands, by a recipe's rule. */
export type PositionRule = (sorted: readonly SequentialNode[], ours: string) => QueuePosition;

/** The mutex rule: first in line holds; everyone else watches the node just ahead. */
export const mutexRule: PositionRule = (sorted, ours) => queuePosition(sorted, ours, 1);

/** What `enterQueue` needs. */
export interface QueueEntry {
  client: RecipeClient;
  env: RecipeEnv;
  /** The queue's directory (created as a container if missing). */
  dir: string;
  /** The node's name before the counter (`lock-`); also the filter for the queue's members. */
  name: string;
  /** Only children whose unprotected name starts with this count (default: every sequential child). */
  filter?: string;
  data: Uint8Array | null;
  rule: PositionRule;
  participant: Participant;
  scope: WaitScope;
  /** Look once and give up (WaitTimeoutError) instead of waiting: `tryAcquire`. */
  once?: boolean;
  /**
   * Watch the directory's child list instead of one node (the semaphore: any holder's
   * release may admit a waiter, so every waiter must hear of it).
   */
  watchChildren?: boolean;
}

/**
 * Create the entry's node and wait until the rule says it holds. Resolves to the node;
 * rejects (with the node deleted and the watch removed) on abort, timeout, loss of the
 * node or session, or a ZooKeeper error.
 */
export async function enterQueue(entry: QueueEntry): Promise<CreatedNode> {
  const { client, scope, participant } = entry;
  const creating = protectedCreate(client, entry.dir, entry.name, entry.data, {
    mode: CreateMode.EPHEMERAL_SEQUENTIAL,
    random: entry.env.random,
    signal: scope.signal,
  });
  let node: CreatedNode | undefined;
  try {
    node = await scope.race(creating);
    participant.send({ type: 'NODE', node: node.path });
    await waitForTurn(entry, node.path);
    return node;
  } catch (error) {
    if (node !== undefined) {
      await removeNode(client, node.path);
    } else {
      // The create may still complete: delete what it made (awaited only while connected,
      // so an abort during a disconnection returns at once).
      const cleanup = creating.then((created) => removeNode(client, created.path)).catch(() => undefined);
      if (client.state === 'CONNECTED') await cleanup;
    }
    throw error;
  }
}

/** Delete our node: awaited while connected, in the background otherwise. */
export async function removeNode(client: RecipeClient, path: string): Promise<void> {
  const deleting = deleteQuietly(client, path).catch(() => false);
  if (client.state === 'CONNECTED') await deleting;
}

/** Throw if the participant has lost its node or left. */
export function throwIfLost(participant: Participant, path: string | undefined): void {
  const status = participant.status;
  if (status.phase === 'lost') throw new RoleLostError(status.lossReason ?? 'lost', path);
  if (status.phase === 'left' || status.phase === 'leaving') throw new RoleLostError(status.lossReason ?? 'closed', path);
}

/**
 * Wait until the node at `ours` holds by `entry.rule`. One data watch at a time, on the
 * node the rule names; woken by that watch, by participant state changes (reconnect,
 * loss) and by the scope's end.
 */
export async function waitForTurn(entry: QueueEntry, ours: string): Promise<void> {
  const { client, participant, scope, dir } = entry;
  const ourName = nameOf(ours);
  const wake = new Wakeup();
  const onState = (): void => wake.fire();
  participant.on('state', onState);
  // The current watch: on the node ahead (mutex rules) or on the child list (semaphore).
  let watch: OneShotWatch | undefined;
  try {
    for (;;) {
      scope.throwIfAborted();
      throwIfLost(participant, ours);
      const sub = participant.status.substate;
      if (sub === 'suspended' || sub === 'verifying') {
        await wake.wait(scope.signal); // the reconnect (or loss) wakes us
        continue;
      }
      let children: string[];
      let childWatch: OneShotWatch | undefined;
      if (entry.watchChildren && !watch?.pending) {
        childWatch = new OneShotWatch(dir, WatcherType.Children, () => wake.fire());
        watch = childWatch;
      }
      try {
        children = await client.getChildren(dir, childWatch ? { watch: childWatch.watcher } : {});
        if (childWatch) childWatch.registered = true;
      } catch (error) {
        if (error instanceof ConnectionLossError) {
          await wake.wait(scope.signal);
          continue;
        }
        if (error instanceof NoNodeError) children = [];
        else throw error;
      }
      scope.throwIfAborted();
      const position = entry.rule(sortSequential(children, entry.filter), ourName);
      if (position.kind === 'missing') throw new RoleLostError('node-deleted', ours);
      if (position.kind === 'acquired') return;
      if (entry.once) throw new WaitTimeoutError(0, 'tryAcquire');
      if (!entry.watchChildren) {
        const target = joinPath(dir, position.watch);
        if (!(watch?.pending && watch.path === target)) {
          await watch?.remove(client);
          const next = new OneShotWatch(target, WatcherType.Data, () => wake.fire());
          watch = next;
          try {
            // Not aborted through the signal: a dropped reply would leave the server's watch behind.
            await client.getData(target, { watch: next.watcher });
            next.registered = true;
          } catch (error) {
            if (error instanceof NoNodeError) continue; // gone already: look again
            if (error instanceof ConnectionLossError) {
              await wake.wait(scope.signal);
              continue;
            }
            throw error;
          }
          if (next.fired) continue;
        }
      }
      await wake.wait(scope.signal);
    }
  } finally {
    participant.off('state', onState);
    await watch?.remove(client);
  }
}

/** What `acquireLease` needs besides a queue entry. */
export interface LeaseSpec extends Omit<QueueEntry, 'participant' | 'scope'> {
  /** Participant machine id (`'lock'`, `'readLock'`, `'semaphore'`, ...). */
  recipe: string;
  /** Participant name (for the inspector). */
  participantName: string;
  wait: WaitOptions;
  /** Called once the lease ends (released or lost) and its node is gone. */
  onEnd?: () => void;
}

/**
 * Stand in the queue as a one-shot participant and resolve with a `Lease` once the
 * rule says the node holds (and the connection is up). The lease's release deletes the
 * node and ends the participant. On failure the participant leaves and nothing stays.
 */
export async function acquireLease(spec: LeaseSpec): Promise<Lease> {
  const { client, env } = spec;
  const participant = new Participant({ recipe: spec.recipe, name: spec.participantName, clock: env.clock, inspect: env.inspect });
  const scope = new WaitScope(env.clock, { signal: spec.wait.signal }, `${spec.recipe} acquire`);
  const onTimeout = (error: WaitTimeoutError): void => scope.abort(error);
  participant.on('timedOut', onTimeout);
  // Before its node exists a waiter has nothing to verify.
  const unbind = bindConnection(client, participant, async () => {
    const node = participant.status.node;
    return node === undefined || (await ownsNode(client, node));
  });
  const finish = (): void => {
    unbind();
    participant.send({ type: 'LEFT' });
    participant.stop();
    spec.onEnd?.();
  };
  participant.send({ type: 'WAIT', timeout: spec.wait.timeout });
  let node: CreatedNode | undefined;
  try {
    node = await enterQueue({ ...spec, participant, scope });
    participant.send({ type: 'ACQUIRED', token: node.stat.czxid });
    await participant.waitFor((s) => (s.phase === 'holding' && s.substate === 'active') || s.phase !== 'holding', scope.signal);
    throwIfLost(participant, node.path);
    if (!participant.holding) throw new RoleLostError(participant.status.lossReason ?? 'lost', node.path);
  } catch (error) {
    const timedOut = participant.status.timedOut;
    participant.send({ type: 'LEAVE' });
    // enterQueue cleans up after itself; a node it returned is ours to delete.
    if (node !== undefined) await removeNode(client, node.path);
    finish();
    throw timedOut && !(error instanceof WaitTimeoutError) ? new WaitTimeoutError(spec.wait.timeout ?? 0, `${spec.recipe} acquire`) : error;
  } finally {
    scope.dispose();
    participant.off('timedOut', onTimeout);
  }
  const held = node;
  let released: Promise<void> | undefined;
  const release = (): Promise<void> => {
    released ??= (async () => {
      participant.send({ type: 'RELEASE' });
      participant.send({ type: 'LEAVE' });
      await removeNode(client, held.path);
      finish();
    })();
    return released;
  };
  const lease = new Lease(participant, held.path, held.stat.czxid, release);
  const armOwnWatch = ownNodeWatch(client, participant, held.path, () => released !== undefined);
  participant.on('granted', armOwnWatch);
  armOwnWatch();
  // A lease that is lost gives its node up at once: after a LOST whose session survives,
  // the node would otherwise stay and block every waiter behind a holder that knows it
  // no longer holds (deleted once reconnected; an expired session took it already).
  participant.on('state', (status) => {
    if (status.phase === 'lost') void Promise.resolve().then(release);
  });
  return lease;
}

/**
 * Tell `participant` when its node `path` is deleted while connected (an administrator,
 * a recipe cleaning up after a stale holder): NODE_GONE ends the role at once, instead
 * of at the next reconnect's verification. One exists-watch, re-armed when the data
 * changes; the holder's own delete consumes it, so nothing stays registered. Returns
 * the function that (re-)arms it: call it when the role is granted (again: a reconnect
 * may have lost it). `ended()` is true once the holder gave the node up.
 */
export function ownNodeWatch(client: RecipeClient, participant: Participant, path: string, ended: () => boolean): () => void {
  let armed = false;
  const watcher: Watcher = (event) => {
    armed = false;
    if (ended()) return;
    if (event.type === 'NodeDeleted') participant.send({ type: 'NODE_GONE' });
    else if (event.type === 'NodeDataChanged') void arm();
  };
  const arm = async (): Promise<void> => {
    if (armed || ended()) return;
    armed = true;
    try {
      const stat = await client.exists(path, { watch: watcher });
      if (stat === null) {
        armed = false;
        await removeWatcherQuietly(client, path, WatcherType.Data, watcher);
        if (!ended()) participant.send({ type: 'NODE_GONE' });
      }
    } catch {
      // ConnectionLoss: the reconnect verifies the node (and re-arms); session ended: LOST says so.
      armed = false;
    }
  };
  return () => void arm();
}

/**
 * `tryAcquire`: run a one-look attempt (`once: true`) and turn "someone holds or waits
 * ahead" into null.
 */
export async function tryOnce<T>(attempt: Promise<T>): Promise<T | null> {
  try {
    return await attempt;
  } catch (error) {
    if (error instanceof WaitTimeoutError && error.timeout === 0) return null;
    throw error;
  }
}

/**
 * The parties queued under `dir` (nodes named `prefix` holding their id as JSON), in
 * line order, the first marked as leader: the latch's `candidates()` and the selector's
 * `participants()`. Nodes that vanish while being read are skipped; an unreadable
 * directory lists nobody.
 */
export async function listCandidates(client: RecipeClient, dir: string, prefix: string): Promise<{ id: string; node: string; isLeader: boolean }[]> {
  let children: string[];
  try {
    children = await client.getChildren(dir);
  } catch {
    return [];
  }
  const result: { id: string; node: string; isLeader: boolean }[] = [];
  for (const [i, n] of sortSequential(children, prefix).entries()) {
    try {
      const { data } = await client.getData(joinPath(dir, n.name));
      result.push({ id: decodeJson<string>(data) ?? '', node: n.name, isLeader: i === 0 });
    } catch {
      // gone meanwhile
    }
  }
  return result;
}
