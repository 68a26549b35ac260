/**
 * The simulator's event log, in the spirit of TigerBeetle's VOPR output: one readable
 * line per event (role changes, elections, epochs, syncs, commits, faults, client
 * operations), each stamped with the virtual time and who it concerns:
 *
 * ```
 *    152.000 s2    LEADING epoch 1
 *    160.004 c3    invoke #12 setData(/k1, "3:5", -1) @s1
 *    161.010 nem   partition [1,3] | [2]
 * ```
 *
 * Lines are only built when tracing is on (`enabled`), and a 32-bit FNV-1a hash of
 * every line is kept, so two runs of one seed can be compared cheaply.
 */

/** A sink for trace lines. */
export class SimTrace {
  /** True when lines are recorded; check it before building an expensive line. */
  readonly enabled: boolean;
  /** The recorded lines (empty when disabled, unless `keep` is false). */
  readonly lines: string[] = [];
  private hash = 0x811c9dc5;
  private readonly now: () => number;
  private readonly sink: ((line: string) => void) | undefined;
  private readonly keep: boolean;

  /**
   * @param now the virtual time source.
   * @param options `enabled` turns recording on; `sink` receives each line as it is
   *   recorded (e.g. to print while running); `keep: false` hashes without storing.
   */
  constructor(now: () => number, options: { enabled?: boolean; sink?: (line: string) => void; keep?: boolean } = {}) {
    this.now = now;
    this.enabled = options.enabled ?? false;
    this.sink = options.sink;
    this.keep = options.keep ?? true;
  }

  /** Record `text` about `who` (`s2`, `c3`, `nem`, `sim`); a no-op when disabled. */
  log(who: string, text: string): void {
    if (!this.enabled) return;
    const line = `${formatTime(this.now())} ${who.padEnd(5)} ${text}`;
    let h = this.hash;
    for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193);
    this.hash = Math.imul(h ^ 10, 0x01000193);
    if (this.keep) this.lines.push(line);
    this.sink?.(line);
  }

  /** The hash of every line recorded so far (hex). */
  digest(): string {
    return (this.hash >>> 0).toString(16).padStart(8, '0');
  }
}

/** Virtual ms as `   152.000` (fixed width up to 10^6 ms). */
export function formatTime(ms: number): string {
  return ms.toFixed(3).padStart(10);
}

/** A zxid as `e:c` (epoch:counter), shorter than hex in a trace. */
export function shortZxid(zxid: number): string {
  const epoch = Math.floor(zxid / 0x1_0000_0000);
  return `${epoch}:${zxid - epoch * 0x1_0000_0000}`;
}
