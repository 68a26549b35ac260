/**
 * Outgoing batching: messages queued for a peer during one turn leave as one transport
 * batch, on the next deferred call. This is what makes every other hot-path step batch
 * naturally: a leader proposing 1000 writes in a turn sends one batch per follower.
 */
import type { PeerMessage, ServerId } from '../protocol/peer.js';
import type { Clock } from '../runtime/clock.js';

/** A per-destination message buffer flushed once per turn. */
export class Outbox {
  private readonly queues = new Map<ServerId, PeerMessage[]>();
  private scheduled = false;
  private closed = false;
  private readonly flushFn = (): void => this.flush();

  /**
   * @param clock schedules the flush (`defer`).
   * @param send hands one batch to the transport (the array is given away).
   */
  constructor(
    private readonly clock: Clock,
    private readonly send: (to: ServerId, messages: PeerMessage[]) => void,
  ) {}

  /** Queue one message for `to`. */
  push(to: ServerId, message: PeerMessage): void {
    if (this.closed) return;
    let queue = this.queues.get(to);
    if (queue === undefined) {
      queue = [];
      this.queues.set(to, queue);
    }
    queue.push(message);
    this.schedule();
  }

  /** Queue several messages for `to`, in order. */
  pushAll(to: ServerId, messages: readonly PeerMessage[]): void {
    if (this.closed || messages.length === 0) return;
    let queue = this.queues.get(to);
    if (queue === undefined) {
      queue = [];
      this.queues.set(to, queue);
    }
    for (let i = 0; i < messages.length; i++) queue.push(messages[i]!);
    this.schedule();
  }

  /** Send everything queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.queues.size === 0) return;
    for (const [to, queue] of this.queues) {
      if (queue.length > 0) this.send(to, queue);
    }
    this.queues.clear();
  }

  /** Drop everything queued and accept nothing more. */
  close(): void {
    this.closed = true;
    this.queues.clear();
  }

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.defer(this.flushFn);
    }
  }
}
