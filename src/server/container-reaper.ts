/**
 * The leader's container and TTL sweep (ZooKeeper's `ContainerManager`, reference §10.6):
 * every `checkIntervalMs` of the injected clock, while this server leads, it asks the
 * tree for empty containers that once had a child (and, optionally, never-used ones
 * older than `maxNeverUsedIntervalMs`) and for empty TTL nodes whose TTL has passed
 * since their last change, and deletes each through ZAB as a `deleteContainer`
 * transaction of session 0. deleteContainer re-checks at prepare time, so a node that
 * gained a child meanwhile fails with NotEmpty and stays.
 */
import { OpCode } from '../protocol/constants.js';
import type { TimerHandle } from '../runtime/clock.js';
import type { QuorumServer } from './quorum-server.js';

/** Options of the sweep (ZooKeeper's `znode.container.*` settings). */
export interface ContainerReaperOptions {
  /** `znode.container.checkIntervalMs`: ms between sweeps. Default 60 000. */
  containerCheckIntervalMs?: number;
  /** `znode.container.maxPerMinute`: deletions per minute at most. Default 10 000. */
  containerMaxPerMinute?: number;
  /** `znode.container.maxNeverUsedIntervalMs`: also delete never-used containers this old (by mtime); 0 (default) = off. */
  containerMaxNeverUsedIntervalMs?: number;
}

/** The sweep of one server; it only runs while the server leads. */
export class ContainerReaper {
  /** ms between sweeps. */
  readonly intervalMs: number;
  private readonly perSweep: number;
  private readonly maxNeverUsedIntervalMs: number;
  private readonly server: QuorumServer;
  private timer: TimerHandle | undefined;
  private deleted = 0;

  constructor(server: QuorumServer, options: ContainerReaperOptions = {}) {
    this.server = server;
    this.intervalMs = options.containerCheckIntervalMs ?? 60_000;
    if (!(this.intervalMs > 0)) throw new RangeError(`containerCheckIntervalMs must be positive, got ${this.intervalMs}`);
    const perMinute = options.containerMaxPerMinute ?? 10_000;
    this.perSweep = Math.max(1, Math.ceil((perMinute * this.intervalMs) / 60_000));
    this.maxNeverUsedIntervalMs = options.containerMaxNeverUsedIntervalMs ?? 0;
    server.on('serving', (serving) => {
      if (serving && server.role === 'leader') this.schedule();
      else this.cancel();
    });
  }

  /** Deletions submitted since this server started. */
  get submitted(): number {
    return this.deleted;
  }

  /**
   * Sweep now (also called by the timer): submit a deleteContainer for each candidate, at
   * most the per-sweep share of `containerMaxPerMinute`. Returns the paths submitted
   * (none unless this server is a serving leader).
   */
  sweep(): string[] {
    const server = this.server;
    if (!server.serving || server.role !== 'leader') return [];
    const candidates = server.tree.expiredContainersAndTtls(server.clock.now(), { maxNeverUsedIntervalMs: this.maxNeverUsedIntervalMs });
    const paths = candidates.length > this.perSweep ? candidates.slice(0, this.perSweep) : candidates;
    for (const path of paths) {
      this.deleted++;
      server.write({ type: OpCode.deleteContainer, path }, { sessionId: 0n, cxid: 0, authIds: [] }, ignore);
    }
    return paths;
  }

  private schedule(): void {
    this.cancel();
    this.timer = this.server.clock.setTimeout(() => {
      this.timer = undefined;
      this.sweep();
      if (this.server.serving && this.server.role === 'leader') this.schedule();
    }, this.intervalMs);
  }

  private cancel(): void {
    if (this.timer === undefined) return;
    this.server.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function ignore(): void {}
