/**
 * Shared pieces of the real-client compatibility tests: one `describe` per selected
 * target (see ../targets.ts), child processes that cannot outlive a test, and small
 * ZooKeeper helpers.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { selectedTargets, type CompatTarget, type TargetSettings } from '../targets.js';

/**
 * Register `body` once per selected target, inside a `describe` whose `before` starts
 * the target with `settings` and whose `after` closes it. `body` gets a getter (the
 * target exists only once `before` ran).
 */
export function describeTargets(title: string, settings: TargetSettings, body: (target: () => CompatTarget) => void): void {
  for (const { key, factory } of selectedTargets()) {
    describe(`${title} against ${key}`, () => {
      let target: CompatTarget | undefined;
      before(async () => {
        target = await factory(settings);
      });
      after(async () => {
        await target?.close();
      });
      body(() => {
        if (target === undefined) throw new Error('target not started');
        return target;
      });
    });
  }
}

let counter = 0;
/** A path no other test (or earlier run against the same server) uses. */
export function uniquePath(prefix: string): string {
  return `/${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
}

/** `user:base64(sha1(user:password))`: the id of ZooKeeper's `digest` ACL scheme. */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** What a finished child process produced. */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running child process in its own process group. */
export interface RunningProcess {
  /** Write to its stdin. */
  write(text: string): void;
  /** Close its stdin. */
  end(): void;
  /** Everything it printed on stdout so far. */
  output(): string;
  /**
   * Like `expect(1)`: resolve once the output after the last match contains `pattern`,
   * and move past it. Rejects after `timeoutMs`, or if the process exits first.
   */
  expect(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The output after the last `expect` match, without consuming it. */
  pending(): string;
  /** Resolves when it exits. */
  readonly exited: Promise<ProcessResult>;
  /** SIGKILL the whole process group (idempotent). */
  kill(): void;
}

const live = new Set<RunningProcess>();
process.once('exit', () => {
  for (const p of live) p.kill();
});

/**
 * Start `command` in its own process group, stdin piped. With `mergeStderr` its stderr
 * goes to the same pipe as stdout (through `sh`), so the two stay in order; output lines
 * matching `ignore` are dropped (before `expect` sees them). It is
 * killed (with its group) after `timeoutMs`, and when this process exits.
 */
export function startProcess(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; mergeStderr?: boolean; ignore?: RegExp } = {},
): RunningProcess {
  const [file, argv] = options.mergeStderr === true ? ['sh', ['-c', 'exec "$@" 2>&1', 'sh', command, ...args]] : [command, [...args]];
  const child = spawn(file, argv, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env, cwd: options.cwd });
  let stdout = '';
  let stderr = '';
  let consumed = 0;
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const { ignore } = options;
    if (ignore === undefined) {
      stdout += chunk.toString('utf8');
    } else {
      // Whole lines only, so an ignored line can never split a block being matched.
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (!ignore.test(line)) stdout += `${line}\n`;
    }
    for (const w of waiters) w();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.on('error', () => {}); // it may exit before reading everything
  let done = false;
  const exited = new Promise<ProcessResult>((resolve) => {
    child.once('close', (code, signal) => {
      if (partial !== '' && !options.ignore?.test(partial)) stdout += partial;
      done = true;
      for (const w of waiters) w();
      resolve({ code, signal, stdout, stderr });
    });
  });
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const kill = (): void => {
    if (!done) killGroup();
  };
  const timer = setTimeout(kill, options.timeoutMs ?? 60_000);
  const describe = (): string => `output after the last match:\n${stdout.slice(consumed)}\nstderr:\n${stderr.slice(-2000)}`;
  const running: RunningProcess = {
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
    output: () => stdout,
    pending: () => stdout.slice(consumed),
    expect(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const finish = (then: () => void): void => {
          clearTimeout(deadline);
          waiters.delete(check);
          then();
        };
        const check = (): void => {
          const match = pattern.exec(stdout.slice(consumed));
          if (match !== null) {
            consumed += match.index + match[0].length;
            finish(() => resolve(match));
          } else if (done) {
            finish(() => reject(new Error(`exited before printing ${pattern}; ${describe()}`)));
          }
        };
        const deadline = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; ${describe()}`))), timeoutMs);
        waiters.add(check);
        check();
      });
    },
    exited,
    kill,
  };
  live.add(running);
  void exited.then(() => {
    clearTimeout(timer);
    live.delete(running);
    killGroup(); // anything it left behind in its group
  });
  return running;
}

/** Run `command` to completion with `input` on stdin. */
export async function runProcess(command: string, args: readonly string[], input: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; mergeStderr?: boolean } = {}): Promise<ProcessResult> {
  const p = startProcess(command, args, options);
  p.write(input);
  p.end();
  return p.exited;
}
