/**
 * The life shared by the recipes that mirror server state through one persistent watch
 * (the node cache, the tree cache, the shared counter): register the watch, load, stay
 * current through the watch's events, resynchronise after connection trouble, and
 * remove the watch on close.
 *
 * Why resynchronise: a persistent watch gets no catch-up events after a reconnect
 * (reference §9.6), so whatever changed while the connection was down is missed. The
 * state is loaded again (`resync`) after every RECONNECTED (the participant is
 * `verifying` meanwhile) and after a LOST whose session turns out to survive (the
 * participant went `lost` and rejoins). After EXPIRED the client is finished and the
 * mirror stops changing.
 *
 * The participant is a `member`: `joining` is the initial load, `member` is live.
 */
import type { Watcher } from '../client/types.js';
import { type AddWatchMode, WatcherType } from '../protocol/constants.js';
import { Participant } from './participant.js';
import { eventStream, type EventSink, type EventStream } from './stream.js';
import { bindConnection, removeWatcherQuietly, type RecipeClient, type RecipeEnv } from './support.js';

/** What a mirror watches and how it loads. */
export interface MirrorSpec {
  /** Participant machine id (`nodeCache`, `treeCache`, `sharedCount`, ...). */
  recipe: string;
  env: RecipeEnv;
  /** PERSISTENT (one node) or PERSISTENT_RECURSIVE (a subtree). */
  mode: AddWatchMode;
  /** The watch's listener. */
  watcher: Watcher;
  /** Load the state again and report the differences (after a reconnect or a rejoin). */
  resync: () => Promise<void>;
  /** A resync after a rejoin failed (the recipe reports it). */
  onError: (error: unknown) => void;
}

/** One persistent-watch mirror; see the file header. `E` is the recipe's event type. */
export class PersistentMirror<E> {
  /** The recipe's participant machine. */
  readonly participant: Participant;
  private active = false;
  private rejoining = false;
  private unbind: (() => void) | undefined;
  private readonly sinks = new Set<EventSink<E>>();

  constructor(
    private readonly client: RecipeClient,
    /** The watched path. */
    readonly path: string,
    private readonly spec: MirrorSpec,
  ) {
    this.participant = new Participant({ recipe: spec.recipe, name: path, member: true, clock: spec.env.clock, inspect: spec.env.inspect });
    this.participant.on('state', (status) => {
      // A LOST session that comes back (the same session) needs a fresh load too.
      if (status.phase === 'lost' && status.connected && this.active) void this.rejoin();
    });
  }

  /** True from the watch's registration until close: events and loads are applied. */
  get watching(): boolean {
    return this.active;
  }

  /**
   * Join: register the watch, then `load` (the initial load). On failure the watch is
   * removed and the participant leaves, so nothing stays behind.
   */
  async start(load: () => Promise<void>): Promise<void> {
    if (this.participant.phase !== 'idle') throw new Error(`${this.spec.recipe} already started`);
    this.participant.send({ type: 'JOIN' });
    this.unbind = bindConnection(this.client, this.participant, async () => {
      await this.spec.resync();
      return true;
    });
    try {
      await this.client.addWatch(this.path, this.spec.mode, this.spec.watcher);
      this.active = true;
      await load();
    } catch (error) {
      await this.close();
      throw error;
    }
    this.participant.send({ type: 'JOINED', node: this.path });
  }

  /** The recipe's events from now on, as an async iterator. */
  events(options: { signal?: AbortSignal } = {}): EventStream<E> {
    const { stream, sink } = eventStream<E>(() => this.sinks.delete(sink), options.signal);
    this.sinks.add(sink);
    return stream;
  }

  /** Hand `event` to every open iterator. */
  publish(event: E): void {
    for (const sink of this.sinks) sink.push(event);
  }

  /** Remove the watch, end the iterators and stop the participant. Idempotent. */
  async close(): Promise<void> {
    if (this.participant.phase === 'left') return;
    this.participant.send({ type: 'LEAVE' });
    if (this.active) {
      this.active = false;
      await removeWatcherQuietly(this.client, this.path, WatcherType.Any, this.spec.watcher);
    }
    this.unbind?.();
    for (const sink of [...this.sinks]) sink.end();
    this.participant.send({ type: 'LEFT' });
    this.participant.stop();
  }

  private async rejoin(): Promise<void> {
    if (this.rejoining) return;
    this.rejoining = true;
    try {
      this.participant.send({ type: 'JOIN' });
      await this.spec.resync();
      if (this.active) this.participant.send({ type: 'JOINED', node: this.path });
    } catch (error) {
      if (this.active) this.spec.onError(error);
    } finally {
      this.rejoining = false;
    }
  }
}
