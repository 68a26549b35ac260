/**
 * A barrier (Curator's `DistributedBarrier`): a node that, while it exists, blocks
 * everyone who waits on it; removing it releases them all together.
 *
 * ```ts
 * const barrier = new Barrier(client, '/app/barriers/deploy');
 * await barrier.setBarrier();                    // coordinator
 * await barrier.waitOnBarrier({ timeout: 60_000 }); // workers
 * await barrier.removeBarrier();                 // coordinator: everyone proceeds
 * ```
 *
 * How: `setBarrier` creates a persistent node; each waiter syncs its server with the
 * leader (so a barrier set before the wait began is seen), sets one exists-watch on the
 * node and returns when it is gone. One deletion notifies every waiter at once.
 *
 * Failure behaviour: the barrier node is persistent, so it outlives its creator's
 * session (a crashed coordinator leaves the barrier up, as in Curator). Waits survive
 * SUSPENDED (the watch is re-registered on reconnect and fires at once if the node went
 * away meanwhile); they reject when the session ends, on `timeout` and on `signal`,
 * removing their watch. A waiter's life is a `barrier` participant machine.
 */
import { CreateMode, WatcherType } from '../protocol/constants.js';
import { NodeExistsError } from '../protocol/errors.js';
import { OneShotWatch, createWithParents, deleteQuietly, recipeEnv, type RecipeClient, type RecipeEnv, type RecipeOptions } from './support.js';
import type { WaitOptions } from './wait.js';
import { participantWait } from './waiter.js';

/** A barrier; see the file header. */
export class Barrier {
  private readonly env: RecipeEnv;

  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    options: RecipeOptions = {},
  ) {
    this.env = recipeEnv(options);
  }

  /** Raise the barrier (idempotent). */
  async setBarrier(): Promise<void> {
    try {
      await createWithParents(this.client, this.path, null, CreateMode.PERSISTENT);
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  /** Remove the barrier, releasing every waiter (idempotent). */
  async removeBarrier(): Promise<void> {
    await deleteQuietly(this.client, this.path);
  }

  /** True while the barrier is up. */
  async isSet(): Promise<boolean> {
    return (await this.client.exists(this.path)) !== null;
  }

  /** Wait until the barrier is removed (resolves at once if it is not set). */
  waitOnBarrier(options: WaitOptions = {}): Promise<void> {
    return participantWait(this.client, this.env, 'barrier', 'waiter', options, async (_participant, scope, wake) => {
      let watch: OneShotWatch | undefined;
      try {
        // Catch up with the leader first: a barrier set before this call is seen even when
        // this client's server lags behind the coordinator's.
        await scope.race(this.client.sync(this.path));
        for (;;) {
          scope.throwIfAborted();
          if (!watch?.pending) {
            watch = new OneShotWatch(this.path, WatcherType.Data, () => wake.fire());
            const stat = await this.client.exists(this.path, { watch: watch.watcher });
            watch.registered = true;
            if (stat === null) return;
          }
          await wake.wait(scope.signal);
          if ((await scope.race(this.client.exists(this.path))) === null) return;
        }
      } finally {
        await watch?.remove(this.client);
      }
    });
  }
}
