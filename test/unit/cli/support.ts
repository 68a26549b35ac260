/**
 * Running the `zoostate` command as a child process in tests: collect its output, wait
 * for its `ready ...` line, signal it, and make sure nothing outlives the test process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

/** bin/zoostate.js. */
export const BIN = fileURLToPath(new URL('../../../bin/zoostate.js', import.meta.url));

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A running `zoostate ...`. */
export class ZoostateProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;

  constructor(args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        resolve(code ?? signal ?? -1);
      });
    });
    if (options.input !== undefined) this.child.stdin!.end(options.input);
  }

  /** The `ready ...` line's addresses (waits for it; fails if the process exits first). */
  async ready(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const m = /^ready (\S+)$/m.exec(this.stdout);
      if (m) return m[1]!;
      if (exited) throw new Error(`zoostate exited before ready; stderr:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`zoostate not ready within ${timeoutMs} ms; stderr:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Send a signal and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Run `zoostate ...` to completion. */
export async function runZoostate(args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = new ZoostateProcess(args, { input: options.input ?? '', ...(options.env ? { env: options.env } : {}) });
  const code = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/** The port of a `host:port` address. */
export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** True once a connection to 127.0.0.1:`port` is refused (nothing listens there). */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
