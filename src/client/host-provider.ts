/**
 * The order in which a client tries servers (Java's `StaticHostProvider`): the list is
 * shuffled once with the injected random source, then tried round-robin. After a full
 * cycle without success (back at the host it last connected to, or at the first host
 * before any connection) the caller should back off before trying again.
 */
import type { Random } from '../runtime/random.js';
import type { HostAddress } from './connect-string.js';

/** The next server to try. */
export interface NextHost {
  address: HostAddress;
  /** True when a full cycle of the list has been tried since the last success: back off first. */
  cycled: boolean;
}

/** Round-robin over a shuffled host list. */
export class HostProvider {
  private readonly hosts: HostAddress[];
  private current = -1;
  private last = -1;

  constructor(hosts: readonly HostAddress[], random: Random) {
    if (hosts.length === 0) throw new RangeError('HostProvider needs at least one host');
    this.hosts = shuffle([...hosts], random);
  }

  /** Number of hosts. */
  get size(): number {
    return this.hosts.length;
  }

  /** The hosts in the order they are tried. */
  get order(): readonly HostAddress[] {
    return this.hosts;
  }

  /** Advance to the next host. */
  next(): NextHost {
    this.current = (this.current + 1) % this.hosts.length;
    const cycled = this.current === this.last;
    if (this.last === -1) this.last = 0; // the first cycle ends back at host 0
    return { address: this.hosts[this.current]!, cycled };
  }

  /** The host returned by the last `next()` accepted a session: a new cycle starts after it. */
  onConnected(): void {
    this.last = this.current;
  }
}

/** Fisher–Yates shuffle in place, drawing from `random`. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
