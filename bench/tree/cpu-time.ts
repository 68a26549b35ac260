/**
 * CPU time for the tree benchmarks: the process's user + system time, so rates stay
 * meaningful on a shared, loaded machine where wall time mostly measures the other
 * processes. (It includes V8's helper threads, i.e. concurrent GC work.)
 */

/** CPU milliseconds used by this process so far (microsecond resolution). */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
