/**
 * Process lifecycle for the long-running subcommands: wait for SIGTERM or SIGINT, shut
 * down cleanly (exit code 0), and give up with exit code 1 if the shutdown hangs or a
 * second signal arrives.
 */

/** Resolves with the first SIGTERM/SIGINT received. */
export function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/**
 * Run `shutdown` after the first signal. A second signal, or `shutdown` taking longer
 * than `timeoutMs`, exits at once with code 1.
 */
export async function runUntilSignal(shutdown: () => Promise<void>, timeoutMs = 15_000): Promise<number> {
  await nextSignal();
  const force = (): void => process.exit(1);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  const timer = setTimeout(() => {
    process.stderr.write('zoostate: shutdown timed out\n');
    process.exit(1);
  }, timeoutMs);
  timer.unref();
  try {
    await shutdown();
    return 0;
  } catch (error) {
    process.stderr.write(`zoostate: shutdown failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    clearTimeout(timer);
    process.off('SIGTERM', force);
    process.off('SIGINT', force);
  }
}

/** A logger writing one line per call to stderr, with a prefix. */
export function stderrLogger(prefix: string): (line: string) => void {
  return (line) => {
    process.stderr.write(`${new Date().toISOString()} ${prefix}${line}\n`);
  };
}
