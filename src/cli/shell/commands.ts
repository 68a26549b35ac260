/**
 * The shell's commands, with zkCli's (ZooKeeper 3.8) names, flags, usage lines and
 * output: results on stdout, `Created ...` and errors on stderr.
 */
import { AddWatchMode, CreateMode, WatcherType } from '../../protocol/constants.js';
import type { ACL, Stat } from '../../protocol/records.js';
import { OPEN_ACL_UNSAFE } from '../../client/acl.js';
import type { ZooKeeperClient } from '../../client/client.js';
import { isAbortError } from '../../client/errors.js';
import type { Watcher } from '../../client/types.js';
import { fullVersion } from '../../server/version.js';
import { AclParseError, errorMessage, formatAcl, formatStat, javaList, parseAcl } from './format.js';

/** What a command can use of the shell. */
export interface ShellContext {
  /** The live client, or undefined after `close` (commands then print `Not connected`). */
  readonly client: ZooKeeperClient | undefined;
  /** Prints watch events (zkCli's default watcher). */
  readonly watcher: Watcher;
  out(text: string): void;
  err(text: string): void;
  /** An abort signal bounding one request. */
  signal(): AbortSignal;
  /** Commands entered so far (for history/redo), this one included. */
  readonly history: readonly string[];
  /** Run a line again (redo). */
  execute(line: string): Promise<boolean>;
  connect(connectString: string): void;
  close(): Promise<void>;
  quit(): void;
  printWatches: boolean;
}

/** Parsed flags of one command line. */
type Flags = Map<string, string | true>;

/** A command definition. */
export interface CommandDef {
  name: string;
  /** zkCli's usage line, e.g. `ls [-s] [-w] [-R] path`. */
  usage: string;
  /** Flags: true = takes a value. */
  flags: Record<string, boolean>;
  /** Positional arguments: [min, max]. */
  args: [number, number];
  /** Needs a session (prints `Not connected` otherwise). */
  needsClient: boolean;
  /** A trailing note in `help`. */
  note?: string;
  run(ctx: ShellContext, client: ZooKeeperClient, flags: Flags, args: string[]): Promise<void>;
}

/** A command line that does not fit its command's usage. */
export class ShellUsageError extends Error {
  override name = 'ShellUsageError';
}

function version(flags: Flags): number {
  const v = flags.get('v');
  if (v === undefined) return -1;
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) throw new ShellUsageError(`version must be an integer, got '${String(v)}'`);
  return Number(v);
}

/** Children of `path`, breadth first, as zkCli's `ls -R` lists them (`ZKUtil.listSubTreeBFS`). */
async function subtree(client: ZooKeeperClient, path: string, signal: AbortSignal): Promise<string[]> {
  const out = [path];
  for (let i = 0; i < out.length; i++) {
    const node = out[i]!;
    const children = (await client.getChildren(node, { signal })).sort();
    for (const child of children) out.push(node === '/' ? `/${child}` : `${node}/${child}`);
  }
  return out;
}

const COMMANDS: CommandDef[] = [
  {
    name: 'addWatch',
    usage: 'addWatch [-m mode] path',
    note: '# optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE',
    flags: { m: true },
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, flags, [path]) {
      const name = (flags.get('m') as string | undefined) ?? 'PERSISTENT_RECURSIVE';
      const mode = name === 'PERSISTENT' ? AddWatchMode.PERSISTENT : name === 'PERSISTENT_RECURSIVE' ? AddWatchMode.PERSISTENT_RECURSIVE : undefined;
      if (mode === undefined) throw new ShellUsageError(`Unsupported mode: ${name}`);
      await client.addWatch(path!, mode, ctx.watcher, { signal: ctx.signal() });
    },
  },
  {
    name: 'addauth',
    usage: 'addauth scheme auth',
    flags: {},
    args: [1, 2],
    needsClient: true,
    async run(ctx, client, _flags, [scheme, auth]) {
      await client.addAuth(scheme!, auth ?? '', { signal: ctx.signal() });
    },
  },
  {
    name: 'close',
    usage: 'close ',
    flags: {},
    args: [0, 0],
    needsClient: false,
    run: (ctx) => ctx.close(),
  },
  {
    name: 'config',
    usage: 'config [-c] [-w] [-s]',
    flags: { c: false, w: false, s: false },
    args: [0, 0],
    needsClient: true,
    async run(ctx, client, flags) {
      const { data, stat } = await client.getData('/zookeeper/config', { signal: ctx.signal(), ...(flags.has('w') ? { watch: ctx.watcher } : {}) });
      const text = data === null ? '' : data.toString('utf8');
      ctx.out(flags.has('c') ? `${text.split('\n').filter((l) => l.startsWith('server.')).join(',')}\n` : text.endsWith('\n') || text === '' ? text : `${text}\n`);
      if (flags.has('s')) ctx.out(formatStat(stat));
    },
  },
  {
    name: 'connect',
    usage: 'connect host:port',
    flags: {},
    args: [1, 1],
    needsClient: false,
    async run(ctx, _client, _flags, [connectString]) {
      await ctx.close();
      ctx.connect(connectString!);
    },
  },
  {
    name: 'create',
    usage: 'create [-s] [-e] [-c] [-t ttl] path [data] [acl]',
    flags: { s: false, e: false, c: false, t: true },
    args: [1, 3],
    needsClient: true,
    async run(ctx, client, flags, [path, data, aclText]) {
      const s = flags.has('s');
      const e = flags.has('e');
      const c = flags.has('c');
      const ttlText = flags.get('t');
      if (c && (e || s)) throw new ShellUsageError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.');
      let ttl: number | undefined;
      if (ttlText !== undefined) {
        if (e) throw new ShellUsageError('TTLs cannot be used with Ephemeral znodes');
        if (c) throw new ShellUsageError('TTLs cannot be used with Container znodes');
        if (typeof ttlText !== 'string' || !/^\d+$/.test(ttlText)) throw new ShellUsageError(`ttl must be a number, got '${String(ttlText)}'`);
        ttl = Number(ttlText);
      }
      let mode: CreateMode = CreateMode.PERSISTENT;
      if (ttl !== undefined) mode = s ? CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateMode.PERSISTENT_WITH_TTL;
      else if (c) mode = CreateMode.CONTAINER;
      else if (e && s) mode = CreateMode.EPHEMERAL_SEQUENTIAL;
      else if (e) mode = CreateMode.EPHEMERAL;
      else if (s) mode = CreateMode.PERSISTENT_SEQUENTIAL;
      const acl: readonly ACL[] = aclText !== undefined ? parseAcl(aclText) : OPEN_ACL_UNSAFE;
      const created = await client.create(path!, data ?? null, { mode, acl, ...(ttl !== undefined ? { ttl } : {}), signal: ctx.signal() });
      ctx.err(`Created ${created}\n`);
    },
  },
  {
    name: 'delete',
    usage: 'delete [-v version] path',
    flags: { v: true },
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, flags, [path]) {
      await client.delete(path!, { version: version(flags), signal: ctx.signal() });
    },
  },
  {
    name: 'deleteall',
    usage: 'deleteall path [-b batch size]',
    flags: { b: true },
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, _flags, [path]) {
      const nodes = await subtree(client, path!, ctx.signal());
      for (const node of nodes.reverse()) {
        if (node === '/') continue;
        try {
          await client.delete(node, { signal: ctx.signal() });
        } catch (error) {
          // A node that vanished meanwhile is fine; anything else stops the walk.
          if (!(error instanceof Error && 'code' in error && (error as { code: number }).code === -101)) throw error;
        }
      }
    },
  },
  {
    name: 'get',
    usage: 'get [-s] [-w] path',
    flags: { s: false, w: false },
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, flags, [path]) {
      const { data, stat } = await client.getData(path!, { signal: ctx.signal(), ...(flags.has('w') ? { watch: ctx.watcher } : {}) });
      ctx.out(`${data === null ? 'null' : data.toString('utf8')}\n`);
      if (flags.has('s')) ctx.out(formatStat(stat));
    },
  },
  {
    name: 'getAcl',
    usage: 'getAcl [-s] path',
    flags: { s: false },
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, flags, [path]) {
      const { acl, stat } = await client.getACL(path!, { signal: ctx.signal() });
      ctx.out(formatAcl(acl));
      if (flags.has('s')) ctx.out(formatStat(stat));
    },
  },
  {
    name: 'getAllChildrenNumber',
    usage: 'getAllChildrenNumber path',
    flags: {},
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, _flags, [path]) {
      ctx.out(`${await client.getAllChildrenNumber(path!, { signal: ctx.signal() })}\n`);
    },
  },
  {
    name: 'getEphemerals',
    usage: 'getEphemerals path',
    flags: {},
    args: [0, 1],
    needsClient: true,
    async run(ctx, client, _flags, [path]) {
      ctx.out(`${javaList(await client.getEphemerals(path ?? '/', { signal: ctx.signal() }))}\n`);
    },
  },
  {
    name: 'history',
    usage: 'history ',
    flags: {},
    args: [0, 0],
    needsClient: false,
    async run(ctx) {
      const last = ctx.history.length - 1;
      for (let i = Math.max(0, last - 10); i <= last; i++) ctx.out(`${i} - ${ctx.history[i]}\n`);
    },
  },
  {
    name: 'ls',
    usage: 'ls [-s] [-w] [-R] path',
    flags: { s: false, w: false, R: false },
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, flags, [path]) {
      if (flags.has('R')) {
        for (const node of await subtree(client, path!, ctx.signal())) ctx.out(`${node}\n`);
        return;
      }
      const watch = flags.has('w') ? { watch: ctx.watcher } : {};
      if (flags.has('s')) {
        const { children, stat } = await client.getChildren(path!, { stat: true, signal: ctx.signal(), ...watch });
        ctx.out(`${javaList(children.sort())}\n${formatStat(stat)}`);
      } else {
        ctx.out(`${javaList((await client.getChildren(path!, { signal: ctx.signal(), ...watch })).sort())}\n`);
      }
    },
  },
  {
    name: 'printwatches',
    usage: 'printwatches on|off',
    flags: {},
    args: [0, 1],
    needsClient: false,
    async run(ctx, _client, _flags, [state]) {
      if (state === undefined) ctx.out(`printwatches is ${ctx.printWatches ? 'on' : 'off'}\n`);
      else ctx.printWatches = state === 'on';
    },
  },
  {
    name: 'quit',
    usage: 'quit ',
    flags: {},
    args: [0, 0],
    needsClient: false,
    async run(ctx) {
      ctx.quit();
    },
  },
  {
    name: 'redo',
    usage: 'redo cmdno',
    flags: {},
    args: [1, 1],
    needsClient: false,
    async run(ctx, _client, _flags, [n]) {
      const index = Number(n);
      const line = Number.isInteger(index) && index >= 0 && index < ctx.history.length - 1 ? ctx.history[index] : undefined;
      if (line === undefined) throw new ShellUsageError('Command index out of range');
      await ctx.execute(line);
    },
  },
  {
    name: 'removewatches',
    usage: 'removewatches path [-c|-d|-a] [-l]',
    flags: { c: false, d: false, a: false, l: false },
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, flags, [path]) {
      const type = flags.has('c') ? WatcherType.Children : flags.has('d') ? WatcherType.Data : WatcherType.Any;
      await client.removeWatches(path!, type, { local: flags.has('l'), signal: ctx.signal() });
    },
  },
  {
    name: 'set',
    usage: 'set [-s] [-v version] path data',
    flags: { s: false, v: true },
    args: [2, 2],
    needsClient: true,
    async run(ctx, client, flags, [path, data]) {
      const stat = await client.setData(path!, data!, { version: version(flags), signal: ctx.signal() });
      if (flags.has('s')) ctx.out(formatStat(stat));
    },
  },
  {
    name: 'setAcl',
    usage: 'setAcl [-s] [-v version] [-R] path acl',
    flags: { s: false, v: true, R: false },
    args: [2, 2],
    needsClient: true,
    async run(ctx, client, flags, [path, aclText]) {
      const acl = parseAcl(aclText!);
      let stat: Stat;
      if (flags.has('R')) {
        const nodes = await subtree(client, path!, ctx.signal());
        stat = await client.setACL(nodes[0]!, acl, { version: version(flags), signal: ctx.signal() });
        for (const node of nodes.slice(1)) await client.setACL(node, acl, { signal: ctx.signal() });
      } else {
        stat = await client.setACL(path!, acl, { version: version(flags), signal: ctx.signal() });
      }
      if (flags.has('s')) ctx.out(formatStat(stat));
    },
  },
  {
    name: 'stat',
    usage: 'stat [-w] path',
    flags: { w: false },
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, flags, [path]) {
      const stat = await client.exists(path!, { signal: ctx.signal(), ...(flags.has('w') ? { watch: ctx.watcher } : {}) });
      if (stat === null) {
        ctx.err(`Node does not exist: ${path}\n`);
        return;
      }
      ctx.out(formatStat(stat));
    },
  },
  {
    name: 'sync',
    usage: 'sync path',
    flags: {},
    args: [1, 1],
    needsClient: true,
    async run(ctx, client, _flags, [path]) {
      await client.sync(path!, { signal: ctx.signal() });
      ctx.out('Sync is OK\n');
    },
  },
  {
    name: 'version',
    usage: 'version ',
    flags: {},
    args: [0, 0],
    needsClient: false,
    async run(ctx) {
      ctx.out(`ZooKeeper CLI version: ${fullVersion()}\n`);
    },
  },
  {
    name: 'whoami',
    usage: 'whoami ',
    flags: {},
    args: [0, 0],
    needsClient: true,
    async run(ctx, client) {
      const infos = await client.whoAmI({ signal: ctx.signal() });
      ctx.out('Auth scheme: User\n' + infos.map((i) => `${i.authScheme}: ${i.user}\n`).join(''));
    },
  },
];

/** Every command, by name. */
export const COMMANDS_BY_NAME: ReadonlyMap<string, CommandDef> = new Map(COMMANDS.map((c) => [c.name, c]));

/** `help`'s text (zkCli's layout). */
export function helpText(): string {
  const lines = ['zoostate shell -server host:port[,host:port...] cmd args'];
  for (const c of [...COMMANDS].sort((a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }))) lines.push(`\t${c.usage}${c.note ? ` ${c.note}` : ''}`);
  lines.push('\thelp ');
  return lines.join('\n') + '\n';
}

/**
 * Split a command line into words: whitespace separates, double or single quotes group
 * (`create /a "two words"`).
 */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

/** Split a command's words into flags (known ones, anywhere) and positional arguments. */
export function parseCommandArgs(def: CommandDef, words: readonly string[]): { flags: Flags; args: string[] } {
  const flags: Flags = new Map();
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const name = /^-[A-Za-z]$/.test(word) ? word.slice(1) : undefined;
    if (name !== undefined && name in def.flags) {
      if (def.flags[name]) {
        const value = words[++i];
        if (value === undefined) throw new ShellUsageError(`option -${name} needs a value`);
        flags.set(name, value);
      } else {
        flags.set(name, true);
      }
      continue;
    }
    args.push(word);
  }
  if (args.length < def.args[0] || args.length > def.args[1]) throw new ShellUsageError(def.usage);
  return { flags, args };
}

/** Run one parsed command; prints its error the way zkCli does and returns false on failure. */
export async function runCommand(ctx: ShellContext, words: readonly string[]): Promise<boolean> {
  const [name, ...rest] = words;
  if (name === undefined) return true;
  if (name === 'help') {
    ctx.out(helpText());
    return true;
  }
  const def = COMMANDS_BY_NAME.get(name);
  if (def === undefined) {
    ctx.out(helpText());
    ctx.out(`Command not found: Command not found ${name}\n`);
    return false;
  }
  let parsed: { flags: Flags; args: string[] };
  try {
    parsed = parseCommandArgs(def, rest);
  } catch (error) {
    ctx.err(`${(error as Error).message}\n`);
    return false;
  }
  const client = ctx.client;
  if (def.needsClient && client === undefined) {
    ctx.out('Not connected\n');
    return false;
  }
  try {
    await def.run(ctx, client!, parsed.flags, parsed.args);
    return true;
  } catch (error) {
    if (error instanceof ShellUsageError || error instanceof AclParseError) ctx.err(`${error.message}\n`);
    else if (isAbortError(error)) ctx.err(`KeeperErrorCode = ConnectionLoss${parsed.args[0] !== undefined ? ` for ${parsed.args[0]}` : ''}\n`);
    else ctx.err(`${errorMessage(error, parsed.args[0])}\n`);
    return false;
  }
}
