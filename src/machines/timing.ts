/**
 * ZAB's timers (reference §16.2): `tickTime` in ms; `initLimit` ticks for a learner to
 * connect and synchronize; `syncLimit` ticks a learner may stay silent once in broadcast.
 *
 * zoostate's defaults are tuned for loopback and in-process ensembles, where a round trip
 * takes microseconds: a 50 ms tick (pings every 25 ms) detects a silent leader within
 * 250 ms (syncLimit 5) and bounds discovery+synchronization by 500 ms per phase
 * (initLimit 10). A crashed peer is usually noticed at once anyway, through the
 * transport's `disconnected` event. Use ZooKeeper's values (2000/10/5) across a WAN.
 */
import type { ElectionTiming } from './election.js';

/** ZAB timing (all limits in ticks, as zoo.cfg). */
export interface ZabTiming {
  /** One tick, in ms. */
  tickTime: number;
  /** Ticks allowed for each of discovery and synchronization. */
  initLimit: number;
  /** Ticks a learner may go unheard (and a follower may not hear its leader) in broadcast. */
  syncLimit: number;
  /** Leader election timers (missing fields take the election's defaults). */
  election?: Partial<ElectionTiming>;
}

/** zoostate's defaults for in-process and loopback ensembles (see the module comment). */
export const DEFAULT_ZAB_TIMING: Readonly<ZabTiming> = Object.freeze({ tickTime: 50, initLimit: 10, syncLimit: 5 });

/** Fill in defaults and check ranges. */
export function resolveTiming(timing: Partial<ZabTiming> = {}): ZabTiming {
  const t: ZabTiming = { ...DEFAULT_ZAB_TIMING, ...timing };
  if (!(t.tickTime > 0) || !(t.initLimit >= 1) || !(t.syncLimit >= 1)) {
    throw new RangeError(`invalid ZAB timing: tickTime ${t.tickTime}, initLimit ${t.initLimit}, syncLimit ${t.syncLimit}`);
  }
  return t;
}
