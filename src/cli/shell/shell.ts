/**
 * `zoostate shell`: a zkCli-style shell on zoostate's client, for zoostate or any
 * ZooKeeper 3.8 ensemble. Three ways to run it:
 *
 * - `zoostate shell -server host:port ls /`: one command, then exit (status 1 if it failed);
 * - commands on stdin (not a terminal): run in order, then exit;
 * - interactively: a prompt `[zk: host:port(CONNECTED) 0] ` with line editing, history
 *   and command completion (node:readline).
 *
 * Watch events print as they arrive, in zkCli's format (`WATCHER::` then
 * `WatchedEvent state:SyncConnected type:NodeDataChanged path:/x`), including the
 * connection's own events (`type:None path:null`).
 */
import { createInterface, type Interface } from 'node:readline';
import { createClient, type ZooKeeperClient } from '../../client/client.js';
import type { ConnectionState, WatchEvent, Watcher } from '../../client/types.js';
import { UsageError } from '../args.js';
import { COMMANDS_BY_NAME, runCommand, tokenize, type ShellContext } from './commands.js';
import { formatWatchEvent } from './format.js';

/** `zoostate shell --help`. */
export const SHELL_HELP = `Usage: zoostate shell [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [cmd args...]

A zkCli-style shell (ZooKeeper 3.8's commands, flags and output) on zoostate's client.
It works against zoostate and against Apache ZooKeeper.

  zoostate shell -server 127.0.0.1:2181              interactive (prompt, history)
  zoostate shell -server 127.0.0.1:2181 get -s /a    one command, then exit
  printf 'create /a x\\nget /a\\n' | zoostate shell   commands on stdin

Options:
  -server HOSTS   connect string (default localhost:2181)
  -timeout MS     requested session timeout (default 30000)
  -r              accept read-only servers
  -h, --help      show this help

Commands (type 'help' in the shell for the list):
  ls [-s] [-w] [-R] path, get [-s] [-w] path, set [-s] [-v version] path data,
  create [-s] [-e] [-c] [-t ttl] path [data] [acl], delete [-v version] path,
  deleteall path, stat [-w] path, sync path, addWatch [-m mode] path,
  removewatches path [-c|-d|-a] [-l], getAcl [-s] path,
  setAcl [-s] [-v version] [-R] path acl, addauth scheme auth, whoami,
  getEphemerals [path], getAllChildrenNumber path, config, connect host:port,
  close, history, redo n, printwatches on|off, version, quit, help
`;

/** Where the shell writes. */
export interface ShellIO {
  out(text: string): void;
  err(text: string): void;
}

/** Options of a `Shell`. */
export interface ShellOptions {
  /** Connect string (default `localhost:2181`). */
  server?: string;
  /** Requested session timeout, ms (default 30 000). */
  sessionTimeout?: number;
  /** Accept read-only servers. */
  readOnly?: boolean;
  /** Longest wait for one request, ms (default: the session timeout). */
  requestTimeout?: number;
  io?: ShellIO;
}

const STATE_EVENTS: Partial<Record<ConnectionState, string>> = {
  CONNECTED: 'SyncConnected',
  RECONNECTED: 'SyncConnected',
  SUSPENDED: 'Disconnected',
  EXPIRED: 'Expired',
  READ_ONLY: 'ConnectedReadOnly',
  AUTH_FAILED: 'AuthFailed',
  CLOSED: 'Closed',
};

const STDIO: ShellIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** The shell's state and commands' context. */
export class Shell implements ShellContext {
  client: ZooKeeperClient | undefined;
  connectString: string;
  printWatches = true;
  quitRequested = false;
  /** Called after a watch event was printed (the interactive loop redraws its prompt). */
  afterEvent: (() => void) | undefined;
  readonly history: string[] = [];
  readonly watcher: Watcher;
  private readonly io: ShellIO;
  private readonly sessionTimeout: number;
  private readonly readOnly: boolean;
  private readonly requestTimeout: number;

  constructor(options: ShellOptions = {}) {
    this.io = options.io ?? STDIO;
    this.sessionTimeout = options.sessionTimeout ?? 30_000;
    this.readOnly = options.readOnly ?? false;
    this.requestTimeout = options.requestTimeout ?? this.sessionTimeout;
    this.connectString = options.server ?? 'localhost:2181';
    // Session events reach every watcher; the state listener prints them once instead.
    this.watcher = (event: WatchEvent) => {
      if (event.type !== 'None') this.event(event.state, event.type, event.path);
    };
    this.connect(this.connectString);
  }

  out(text: string): void {
    this.io.out(text);
  }

  err(text: string): void {
    this.io.err(text);
  }

  signal(): AbortSignal {
    return AbortSignal.timeout(this.requestTimeout);
  }

  connect(connectString: string): void {
    this.connectString = connectString;
    const client = createClient(connectString, { sessionTimeout: this.sessionTimeout, canBeReadOnly: this.readOnly });
    client.on('error', (error) => this.err(`${(error as Error).message ?? String(error)}\n`));
    client.on('state', (state) => {
      const name = STATE_EVENTS[state];
      if (name !== undefined) this.event(name, 'None', '');
    });
    this.client = client;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    // The CLOSED state (printed as zkCli's `state:Closed` event) may follow close()'s promise.
    const closed = new Promise<void>((resolve) => (client.state === 'CLOSED' ? resolve() : client.once('CLOSED', () => resolve())));
    const done = Promise.all([client.close().catch(() => {}), closed]);
    await Promise.race([done, new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())]);
  }

  quit(): void {
    this.quitRequested = true;
  }

  /** Run one command line; false if it failed. */
  async execute(line: string): Promise<boolean> {
    return this.executeWords(tokenize(line), line.trim());
  }

  /** Run one command given as words (e.g. from the command line). */
  async executeWords(words: readonly string[], line = words.join(' ')): Promise<boolean> {
    if (words.length === 0) return true;
    this.history.push(line);
    return runCommand(this, words);
  }

  /** The prompt zkCli shows: `[zk: host:port(CONNECTED) 3] `. */
  prompt(): string {
    const state = this.client?.state;
    const shown = state === 'CONNECTED' ? 'CONNECTED' : state === 'CONNECTING' || state === 'DISCONNECTED' ? 'CONNECTING' : 'CLOSED';
    return `[zk: ${this.connectString}(${shown}) ${this.history.length}] `;
  }

  private event(state: string, type: string, path: string): void {
    if (!this.printWatches) return;
    this.out(formatWatchEvent({ state, type: type as WatchEvent['type'], path }));
    this.afterEvent?.();
  }
}

/** Parsed `zoostate shell` arguments. */
export interface ShellArgs {
  options: ShellOptions;
  /** A command to run once (empty: read commands). */
  command: string[];
  help: boolean;
}

/** Parse zkCli-style arguments (`-server`, `-timeout`, `-r`), then the optional command. */
export function parseShellArgs(argv: readonly string[]): ShellArgs {
  const options: ShellOptions = {};
  let help = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-server' || arg === '--server') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError('-server needs host:port');
      options.server = value;
    } else if (arg === '-timeout' || arg === '--timeout') {
      const value = argv[++i];
      if (value === undefined || !/^\d+$/.test(value) || Number(value) <= 0) throw new UsageError('-timeout needs a positive number of ms');
      options.sessionTimeout = Number(value);
    } else if (arg === '-r') {
      options.readOnly = true;
    } else if (arg === '-h' || arg === '--help') {
      help = true;
    } else if (arg.startsWith('-') && !COMMANDS_BY_NAME.has(arg)) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      break;
    }
  }
  return { options, command: argv.slice(i), help };
}

/** Read commands from a stream that is not a terminal, in order, until EOF or `quit`. */
async function runScript(shell: Shell, input: NodeJS.ReadableStream): Promise<number> {
  const rl = createInterface({ input, terminal: false });
  let status = 0;
  for await (const line of rl) {
    if (!(await shell.execute(line))) status = 1;
    if (shell.quitRequested) break;
  }
  rl.close();
  return status;
}

/** Interactive: prompt, history, completion. */
function runInteractive(shell: Shell): Promise<number> {
  return new Promise((resolve) => {
    const names = [...COMMANDS_BY_NAME.keys(), 'help'];
    const rl: Interface = createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: true,
      historySize: 1000,
      completer: (line: string) => {
        const hits = names.filter((n) => n.startsWith(line.trim()));
        return [hits.length > 0 ? hits : names, line];
      },
    });
    let busy = Promise.resolve();
    let running = false;
    const ask = (): void => {
      rl.setPrompt(shell.prompt());
      rl.prompt(true);
    };
    // An event printed while waiting for input: show the prompt again below it.
    shell.afterEvent = () => {
      if (!running) ask();
    };
    rl.on('line', (line) => {
      busy = busy.then(async () => {
        running = true;
        rl.pause();
        await shell.execute(line);
        running = false;
        if (shell.quitRequested) rl.close();
        else {
          rl.resume();
          ask();
        }
      });
    });
    rl.on('close', () => {
      void busy.then(() => resolve(0));
    });
    rl.on('SIGINT', () => rl.close());
    ask();
  });
}

/** `zoostate shell`: resolves with the exit code. */
export async function shellCommand(argv: readonly string[]): Promise<number> {
  const args = parseShellArgs(argv);
  if (args.help) {
    process.stdout.write(SHELL_HELP);
    return 0;
  }
  const shell = new Shell(args.options);
  let status: number;
  if (args.command.length > 0) {
    status = (await shell.executeWords(args.command)) ? 0 : 1;
  } else if (process.stdin.isTTY) {
    process.stdout.write(`Connecting to ${shell.connectString}\nWelcome to zoostate!\n`);
    status = await runInteractive(shell);
  } else {
    status = await runScript(shell, process.stdin);
  }
  // Leaving: zkCli exits without reporting its own session's close.
  shell.printWatches = false;
  await shell.close();
  return status;
}
