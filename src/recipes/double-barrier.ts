/**
 * A double barrier (Curator's `DistributedDoubleBarrier`, the ZooKeeper recipe):
 * `enter()` blocks until `memberQty` members have entered; `leave()` blocks until every
 * member has left. Members start and finish a computation together.
 *
 * ```ts
 * const barrier = new DoubleBarrier(client, '/app/barriers/round-7', 3);
 * await barrier.enter({ timeout: 30_000 });
 * await compute();
 * await barrier.leave({ timeout: 30_000 });
 * ```
 *
 * How: each member creates an ephemeral node `<path>/<id>`; the member that sees
 * `memberQty` of them creates the persistent node `<path>/ready`, whose creation
 * (watched by everyone with one exists-watch) lets all members in at once. To leave, a
 * member deletes its node and waits (one exists-watch on the highest remaining node)
 * until no member node is left; the last one out deletes `ready`.
 *
 * Guarantees and failure behaviour:
 * - `memberQty` is a threshold, not a limit (more may enter). Use a fresh path per round.
 * - `enter` honours `signal` and `timeout`: the member's node is deleted and its watch
 *   removed before it rejects. `leave` honours them too (its node is already gone). A
 *   member create whose reply is lost (ConnectionLoss) is retried and adopted, never
 *   left behind to be counted as a member that is not there.
 * - A member whose session dies is treated as having left (its node goes with the
 *   session), so the others do not wait for it forever.
 * - The member's life (`joining` → `waiting` → `holding` = inside → `leaving` → `left`)
 *   is a `doubleBarrier` participant machine; SUSPENDED while inside marks the member
 *   suspended (its node may vanish), RECONNECTED verifies the node.
 */
import { CreateMode, WatcherType } from '../protocol/constants.js';
import { ConnectionLossError, NoNodeError, NodeExistsError } from '../protocol/errors.js';
import { randomUuid } from '../client/protected.js';
import { RoleLostError, WaitTimeoutError } from './errors.js';
import { Participant } from './participant.js';
import {
  bindConnection,
  deleteQuietly,
  ensurePath,
  joinPath,
  OneShotWatch,
  ownsNode,
  recipeEnv,
  type RecipeClient,
  type RecipeEnv,
  type RecipeOptions,
} from './support.js';
import { WaitScope, Wakeup, type WaitOptions } from './wait.js';

/** The node whose existence lets members in. */
export const READY_NODE = 'ready';

/** Options of a `DoubleBarrier`. */
export interface DoubleBarrierOptions extends RecipeOptions {
  /** This member's node name (default: a random UUID). */
  id?: string;
}

/** A double barrier; see the file header. */
export class DoubleBarrier {
  /** This member's participant machine (`doubleBarrier`). */
  readonly participant: Participant;
  private readonly env: RecipeEnv;
  private readonly ourPath: string;
  private readonly readyPath: string;
  private unbind: (() => void) | undefined;

  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    readonly memberQty: number,
    options: DoubleBarrierOptions = {},
  ) {
    if (!Number.isInteger(memberQty) || memberQty < 1) throw new RangeError(`memberQty must be a positive integer, got ${memberQty}`);
    this.env = recipeEnv(options);
    const id = options.id ?? randomUuid(this.env.random);
    this.ourPath = joinPath(path, id);
    this.readyPath = joinPath(path, READY_NODE);
    this.participant = new Participant({ recipe: 'doubleBarrier', name: id, clock: this.env.clock, inspect: this.env.inspect });
  }

  /** Enter; resolves once `memberQty` members have entered. */
  async enter(options: WaitOptions = {}): Promise<void> {
    const participant = this.participant;
    if (participant.phase !== 'idle') throw new Error(`DoubleBarrier.enter: already ${participant.phase}`);
    const scope = new WaitScope(this.env.clock, { signal: options.signal }, 'doubleBarrier enter');
    const onTimeout = (error: WaitTimeoutError): void => scope.abort(error);
    participant.on('timedOut', onTimeout);
    this.unbind = bindConnection(this.client, participant, () => ownsNode(this.client, this.ourPath));
    const wake = new Wakeup();
    let watch: OneShotWatch | undefined;
    const watchReady = async (): Promise<boolean> => {
      watch = new OneShotWatch(this.readyPath, WatcherType.Data, () => wake.fire());
      const stat = await this.client.exists(this.readyPath, { watch: watch.watcher });
      watch.registered = true;
      return stat !== null;
    };
    let attempted = false;
    try {
      participant.send({ type: 'JOIN' });
      // Watch `ready` first, so its creation cannot slip between our look and our wait.
      let ready = await watchReady();
      attempted = true;
      await this.createOurNode(scope);
      participant.send({ type: 'JOINED', node: this.ourPath });
      participant.send({ type: 'WAIT', timeout: options.timeout });
      while (!ready) {
        scope.throwIfAborted();
        const members = await this.members();
        if (members.length >= this.memberQty) {
          try {
            await this.client.create(this.readyPath, null, { mode: CreateMode.PERSISTENT });
          } catch (error) {
            if (!(error instanceof NodeExistsError)) throw error;
          }
          break;
        }
        await wake.wait(scope.signal);
        if (!watch?.pending) ready = await watchReady();
      }
      participant.send({ type: 'ACQUIRED' });
    } catch (error) {
      const timedOut = participant.status.timedOut;
      participant.send({ type: 'LEAVE' });
      // A create interrupted by ConnectionLoss may have made the node: it must not count as a member.
      if (attempted) await this.removeOurNode();
      this.finish();
      throw timedOut && !(error instanceof WaitTimeoutError) ? new WaitTimeoutError(options.timeout ?? 0, 'doubleBarrier enter') : error;
    } finally {
      scope.dispose();
      participant.off('timedOut', onTimeout);
      await watch?.remove(this.client);
    }
  }

  /** Leave; resolves once every member has left. */
  async leave(options: WaitOptions = {}): Promise<void> {
    const participant = this.participant;
    const scope = new WaitScope(this.env.clock, options, 'doubleBarrier leave');
    const wake = new Wakeup();
    let watch: OneShotWatch | undefined;
    try {
      participant.send({ type: 'LEAVE' });
      await deleteQuietly(this.client, this.ourPath);
      for (;;) {
        scope.throwIfAborted();
        const members = (await this.members()).sort();
        if (members.length === 0) break;
        const highest = joinPath(this.path, members[members.length - 1]!);
        if (!(watch?.pending && watch.path === highest)) {
          await watch?.remove(this.client);
          watch = new OneShotWatch(highest, WatcherType.Data, () => wake.fire());
          const stat = await this.client.exists(highest, { watch: watch.watcher });
          watch.registered = true;
          if (stat === null) continue;
        }
        await wake.wait(scope.signal);
      }
      await deleteQuietly(this.client, this.readyPath);
    } finally {
      scope.dispose();
      await watch?.remove(this.client);
      this.finish();
    }
  }

  /** Member node names (without `ready`). */
  async members(): Promise<string[]> {
    try {
      return (await this.client.getChildren(this.path)).filter((name) => name !== READY_NODE);
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  /**
   * Create our member node. ConnectionLoss leaves its outcome unknown, so the create is
   * retried once reconnected: a NodeExists owned by this session is ours.
   */
  private async createOurNode(scope: WaitScope): Promise<void> {
    for (;;) {
      scope.throwIfAborted();
      try {
        await this.client.create(this.ourPath, null, { mode: CreateMode.EPHEMERAL });
        return;
      } catch (error) {
        if (error instanceof NoNodeError) {
          await ensurePath(this.client, this.path);
          continue;
        }
        if (error instanceof ConnectionLossError) {
          await scope.race(this.client.waitUntilConnected());
          continue;
        }
        if (!(error instanceof NodeExistsError)) throw error;
      }
      if (await ownsNode(this.client, this.ourPath)) return; // an earlier attempt made it
      throw new RoleLostError('closed', this.ourPath, `member ${this.ourPath} exists already`);
    }
  }

  /** Delete our member node if this session owns it (awaited while connected, in the background otherwise). */
  private async removeOurNode(): Promise<void> {
    const removing = (async () => {
      try {
        await this.client.waitUntilConnected();
        if (await ownsNode(this.client, this.ourPath)) await deleteQuietly(this.client, this.ourPath);
      } catch {
        // The session ended: its ephemerals went with it.
      }
    })();
    if (this.client.state === 'CONNECTED') await removing;
  }

  private finish(): void {
    this.unbind?.();
    this.unbind = undefined;
    this.participant.send({ type: 'LEFT' });
    this.participant.stop();
  }
}
