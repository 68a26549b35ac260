/**
 * An ephemeral node that represents a live party (a service instance, a group member,
 * a status-board member) and puts itself back after its session's trouble: the piece
 * shared by service discovery, group membership and the status board.
 *
 * Failure behaviour:
 * - SUSPENDED: the node may be about to vanish (participant `member.suspended`).
 * - RECONNECTED with the same session: the node is checked; if it is gone it is created
 *   again (a new node, the same path and data).
 * - LOST whose session comes back: created again as well. EXPIRED: the client is
 *   finished; the registration stays `lost`.
 * - A create whose reply is lost (ConnectionLoss) is retried once reconnected; the node
 *   it may have made is this session's and is adopted, so `register()` never fails while
 *   leaving a node behind.
 * - A node of the same path left by an older session of the same party (its session not
 *   yet expired) is replaced when `replaceStale` is set (Curator's discovery does this);
 *   otherwise the registration fails with NodeExists, so two live parties never share a
 *   name.
 * - `unregister()` deletes the node and stops the participant.
 */
import { EventEmitter } from 'eventemitter3';
import { CreateMode } from '../protocol/constants.js';
import { ConnectionLossError, NoNodeError, NodeExistsError } from '../protocol/errors.js';
import { RecipeClosedError, type LossReason } from './errors.js';
import { removeNode } from './lock-internals.js';
import { Participant, type ParticipantStatus } from './participant.js';
import { bindConnection, createWithParents, deleteQuietly, isSessionEnded, ownsNode, type RecipeClient, type RecipeEnv } from './support.js';

/** Options of a `Registration`. */
export interface RegistrationOptions {
  /** Participant machine id. */
  recipe: string;
  /** Participant name. */
  name: string;
  /** Replace a node at the path owned by another session (a stale self). */
  replaceStale?: boolean;
  /**
   * More to check after a reconnect besides the node itself (a status-board member's
   * sync-turn request): false counts as the node being gone.
   */
  verify?: () => Promise<boolean>;
}

/** Events of a `Registration`. */
export interface RegistrationEvents {
  /** The node was created (first time or again). */
  registered: [path: string];
  /** The node is gone or may be gone. */
  lost: [reason: LossReason];
  /** Every participant state change. */
  state: [status: ParticipantStatus];
  /** Re-registration failed. */
  error: [error: unknown];
}

/** A self-restoring ephemeral node; see the file header. */
export class Registration extends EventEmitter<RegistrationEvents> {
  /** The party's participant machine. */
  readonly participant: Participant;
  private unbind: (() => void) | undefined;
  private restoring = false;
  private closed = false;

  constructor(
    private readonly client: RecipeClient,
    readonly path: string,
    private data: Uint8Array,
    env: RecipeEnv,
    private readonly options: RegistrationOptions,
  ) {
    super();
    this.participant = new Participant({ recipe: options.recipe, name: options.name, member: true, clock: env.clock, inspect: env.inspect });
    this.participant.on('state', (status) => {
      this.emit('state', status);
      if (status.phase === 'lost') {
        this.emit('lost', status.lossReason ?? 'lost');
        if (status.connected && this.client.state === 'CONNECTED') void this.restore();
      }
    });
    this.participant.on('revoked', (error) => this.emit('lost', error.reason));
  }

  /** True while the node is known to exist (connected, verified). */
  get registered(): boolean {
    const s = this.participant.status;
    return s.phase === 'member' && (s.substate === 'ready' || s.substate === 'paused');
  }

  /** The data the node holds (and gets when it is created again). */
  get currentData(): Uint8Array {
    return this.data;
  }

  /** Create the node. */
  async register(): Promise<void> {
    if (this.closed) throw new RecipeClosedError(this.options.recipe);
    const extra = this.options.verify;
    this.unbind ??= bindConnection(this.client, this.participant, async () => (await ownsNode(this.client, this.path)) && (extra === undefined || (await extra())));
    this.participant.send({ type: 'JOIN' });
    await this.create();
    this.participant.send({ type: 'JOINED', node: this.path });
    this.emit('registered', this.path);
  }

  /** Replace the node's data (creating the node again if it is gone). */
  async update(data: Uint8Array): Promise<void> {
    this.data = data;
    try {
      await this.client.setData(this.path, data);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      if (!this.closed) await this.restore();
    }
  }

  /** Delete the node and stop. */
  async unregister(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.participant.send({ type: 'LEAVE' });
    await removeNode(this.client, this.path);
    this.unbind?.();
    this.participant.send({ type: 'LEFT' });
    this.participant.stop();
  }

  /** Create the node again after a loss (once at a time). */
  private async restore(): Promise<void> {
    if (this.restoring || this.closed) return;
    this.restoring = true;
    try {
      if (this.participant.phase !== 'joining') this.participant.send({ type: 'JOIN' });
      await this.create();
      if (this.closed) return;
      this.participant.send({ type: 'JOINED', node: this.path });
      this.emit('registered', this.path);
    } catch (error) {
      if (isSessionEnded(error)) this.participant.send({ type: 'LOST', reason: 'expired' });
      else if (!this.closed) this.emit('error', error);
    } finally {
      this.restoring = false;
    }
  }

  /**
   * Create the node. ConnectionLoss leaves the outcome unknown, so the create is retried
   * once reconnected (as long as the session lives): a node this session owns is ours.
   */
  private async create(): Promise<void> {
    for (let attempt = 0; ; ) {
      try {
        try {
          await createWithParents(this.client, this.path, this.data, CreateMode.EPHEMERAL);
          return;
        } catch (error) {
          if (!(error instanceof NodeExistsError) || attempt++ >= 10) throw error;
          if (await ownsNode(this.client, this.path)) {
            // Ours already (a retried create, or it survived): make sure it holds our data.
            await this.client.setData(this.path, this.data);
            return;
          }
          if (!this.options.replaceStale) throw error;
          await deleteQuietly(this.client, this.path);
        }
      } catch (error) {
        if (!(error instanceof ConnectionLossError) || this.closed) throw error;
        await this.client.waitUntilConnected();
      }
    }
  }
}
