/**
 * `zoostate start`: an ensemble in this process serving ZooKeeper clients on TCP. Prints
 * exactly one line on stdout, `ready host:port,host:port,...`, once every server serves;
 * SIGTERM/SIGINT shut it down cleanly (exit 0).
 *
 * With `--transport worker` each server runs in its own worker_thread with its client
 * port inside it (`startEnsemble({ transport: 'worker' })`); otherwise every server lives
 * in the main thread and `serveEnsemble` puts the client ports in front of them.
 */
import { join } from 'node:path';
import type { EnsembleTransport } from '../server/ensemble.js';
import { startEnsemble, type Ensemble } from '../server/ensemble.js';
import type { ClientServiceOptions } from '../server/client-service.js';
import { parseWhitelist } from '../server/four-letter-words.js';
import { serveEnsemble } from '../server/serve.js';
import type { WorkerEnsemble } from '../server/worker/worker-ensemble.js';
import { FileStorage } from '../storage/file.js';
import { UsageError, integerOption, parseOptions, stringOption, type OptionSpec } from './args.js';
import { runUntilSignal, stderrLogger } from './lifecycle.js';

/** `zoostate start --help`. */
export const START_HELP = `Usage: zoostate start [options]

Run a ZooKeeper ensemble in this process: N voting servers and M observers, each
serving ZooKeeper clients (any ZooKeeper client library, zkCli, zoostate's client)
on its own TCP port. With --transport worker every server (with its client port)
runs in its own worker thread, so the servers can use several CPU cores. Prints
one line once every server serves:

  ready 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183

SIGTERM or SIGINT (Ctrl-C) shuts every server down cleanly (exit code 0).

Options:
  --servers N              voting servers (default 3)
  --observers M            observers, after the voters (default 0)
  --port P                 client port of the first server; the others get P+1, P+2, ...
                           0 = any free port for each server (default 2181)
  --host H                 address to listen on (default 127.0.0.1)
  --data-dir D             durable storage: server i keeps its log and snapshots in D/i
                           (default: memory only)
  --transport T            where the servers run and how they talk:
                             inproc  one thread, in-process messages (default)
                             worker  one worker thread per server, MessagePorts
                             tcp     one thread, loopback TCP between servers
  --tick-time MS           ZAB tick in ms (default 50)
  --min-session-timeout MS smallest session timeout granted (default 2 x tick time)
  --max-session-timeout MS largest session timeout granted (default 60000)
  --max-client-cnxns N     connections per client IP address, 0 = unlimited (default 60)
  --4lw-whitelist LIST     enabled four-letter words, comma-separated, or * (default *)
  --extended-types         allow TTL nodes (zookeeper.extendedTypesEnabled)
  --reconfig               allow dynamic reconfiguration (reconfigEnabled; by default a
                           reconfig is answered ReconfigDisabled, as in ZooKeeper 3.5.3+)
  --super-digest D         the super user, user:base64(sha1(user:password))
                           (zookeeper.DigestAuthenticationProvider.superDigest)
  --read-only              read-only mode (readonlymode.enabled): a server without a
                           quorum keeps serving reads to clients that allow it
  --secret S               peer secret for --transport tcp (default: env ZOOSTATE_SECRET,
                           else a development secret)
  --quiet                  do not log client-port events on stderr
  -h, --help               show this help
`;

const SPEC: Record<string, OptionSpec> = {
  servers: { type: 'integer' },
  observers: { type: 'integer' },
  port: { type: 'integer' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  transport: { type: 'string' },
  'tick-time': { type: 'integer' },
  'min-session-timeout': { type: 'integer' },
  'max-session-timeout': { type: 'integer' },
  'max-client-cnxns': { type: 'integer' },
  '4lw-whitelist': { type: 'string' },
  'extended-types': { type: 'boolean' },
  reconfig: { type: 'boolean' },
  'super-digest': { type: 'string' },
  'read-only': { type: 'boolean' },
  secret: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** The settings of `zoostate start`. */
export interface StartSettings {
  servers: number;
  observers: number;
  port: number;
  host: string;
  dataDir: string | undefined;
  transport: EnsembleTransport;
  tickTime: number | undefined;
  minSessionTimeout: number | undefined;
  maxSessionTimeout: number | undefined;
  maxClientCnxns: number;
  whitelist: '*' | readonly string[];
  extendedTypes: boolean;
  /** `--reconfig`: dynamic reconfiguration allowed. */
  reconfig: boolean;
  /** `--super-digest`. */
  superDigest: string | undefined;
  /** `--read-only`: read-only mode. */
  readOnly: boolean;
  secret: string | undefined;
  quiet: boolean;
}

/** Parse `zoostate start`'s arguments (throws `UsageError`); undefined for `--help`. */
export function parseStartArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): StartSettings | undefined {
  const args = parseOptions(argv, SPEC);
  if (args.options.get('help') === true) return undefined;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const transport = stringOption(args, 'transport') ?? 'inproc';
  if (transport !== 'inproc' && transport !== 'worker' && transport !== 'tcp') throw new UsageError(`--transport must be inproc, worker or tcp, got '${transport}'`);
  const servers = integerOption(args, 'servers', 3, 1, 255);
  const observers = integerOption(args, 'observers', 0, 0, 255 - servers);
  const port = integerOption(args, 'port', 2181, 0, 65535);
  if (port !== 0 && port + servers + observers - 1 > 65535) throw new UsageError(`--port ${port} leaves no room for ${servers + observers} servers`);
  const tick = args.options.get('tick-time');
  const min = args.options.get('min-session-timeout');
  const max = args.options.get('max-session-timeout');
  return {
    servers,
    observers,
    port,
    host: stringOption(args, 'host') ?? '127.0.0.1',
    dataDir: stringOption(args, 'data-dir'),
    transport,
    tickTime: tick === undefined ? undefined : integerOption(args, 'tick-time', 50, 1),
    minSessionTimeout: min === undefined ? undefined : integerOption(args, 'min-session-timeout', 0, 1),
    maxSessionTimeout: max === undefined ? undefined : integerOption(args, 'max-session-timeout', 0, 1),
    maxClientCnxns: integerOption(args, 'max-client-cnxns', 60, 0),
    whitelist: parseWhitelist(stringOption(args, '4lw-whitelist')),
    extendedTypes: args.options.get('extended-types') === true,
    reconfig: args.options.get('reconfig') === true,
    superDigest: stringOption(args, 'super-digest'),
    readOnly: args.options.get('read-only') === true,
    secret: stringOption(args, 'secret') ?? env['ZOOSTATE_SECRET'],
    quiet: args.options.get('quiet') === true,
  };
}

/** Every server's client pipeline options from the settings. */
function sessionOptions(settings: StartSettings): ClientServiceOptions {
  return {
    ...(settings.minSessionTimeout !== undefined ? { minSessionTimeout: settings.minSessionTimeout } : {}),
    ...(settings.maxSessionTimeout !== undefined ? { maxSessionTimeout: settings.maxSessionTimeout } : {}),
    ...(settings.superDigest !== undefined ? { superDigest: settings.superDigest } : {}),
    ...(settings.readOnly ? { readOnlyMode: true } : {}),
  };
}

/** A running `zoostate start`. */
export interface StartedEnsemble {
  /** The ensemble: in this thread (`Ensemble`) or one worker per server (`WorkerEnsemble`). */
  ensemble: Ensemble | WorkerEnsemble;
  /** `host:port` of every server's client port, voters then observers. */
  addresses: readonly string[];
  /** `addresses` joined with commas (the ready line). */
  connectString: string;
  close(): Promise<void>;
}

/** Start the ensemble and its client ports; resolves once every server serves. */
export async function startServing(settings: StartSettings): Promise<StartedEnsemble> {
  const log = settings.quiet ? undefined : stderrLogger('zoostate: ');
  if (settings.transport === 'worker') return startWorkers(settings, log);
  const dataDir = settings.dataDir;
  const ensemble = await startEnsemble({
    servers: settings.servers,
    observers: settings.observers,
    transport: settings.transport,
    ...(settings.tickTime !== undefined ? { tickTime: settings.tickTime } : {}),
    ...(dataDir !== undefined ? { storage: (id: number) => new FileStorage({ dir: join(dataDir, String(id)) }) } : {}),
    ...(settings.secret !== undefined ? { secret: settings.secret } : {}),
    extendedTypesEnabled: settings.extendedTypes,
    // Known client ports go into the configuration (/zookeeper/config, conf): server i has port + i - 1.
    ...(settings.port !== 0 ? { addresses: (id: number) => ({ clientAddress: settings.host, clientPort: settings.port + id - 1 }) } : {}),
    ...(settings.reconfig ? { zab: { reconfigEnabled: true } } : {}),
    session: sessionOptions(settings),
  });
  let ports: Awaited<ReturnType<typeof serveEnsemble>>;
  try {
    ports = await serveEnsemble(ensemble, {
      host: settings.host,
      port: settings.port,
      limits: { maxClientCnxns: settings.maxClientCnxns },
      fourLetterWords: settings.whitelist,
      ...(log !== undefined ? { log } : {}),
      info: (id) => (dataDir !== undefined ? { dataDir: join(dataDir, String(id)) } : {}),
    });
  } catch (error) {
    await ensemble.close();
    throw error;
  }
  await whenAllServing(ensemble);
  return {
    ensemble,
    addresses: ports.addresses,
    connectString: ports.connectString,
    close: async () => {
      await ports.close();
      await ensemble.close();
    },
  };
}

/** `--transport worker`: every server and its client port in a worker of its own. */
async function startWorkers(settings: StartSettings, log: ((line: string) => void) | undefined): Promise<StartedEnsemble> {
  const ensemble = await startEnsemble({
    transport: 'worker',
    servers: settings.servers,
    observers: settings.observers,
    ...(settings.tickTime !== undefined ? { tickTime: settings.tickTime } : {}),
    ...(settings.dataDir !== undefined ? { dataDir: settings.dataDir } : {}),
    extendedTypesEnabled: settings.extendedTypes,
    // Known client ports go into the configuration (/zookeeper/config, conf): server i has port + i - 1.
    ...(settings.port !== 0 ? { addresses: (id: number) => ({ clientAddress: settings.host, clientPort: settings.port + id - 1 }) } : {}),
    ...(settings.reconfig ? { zab: { reconfigEnabled: true } } : {}),
    session: sessionOptions(settings),
    host: settings.host,
    port: settings.port,
    limits: { maxClientCnxns: settings.maxClientCnxns },
    fourLetterWords: settings.whitelist,
    ...(log !== undefined ? { log } : {}),
  });
  try {
    await whenAllServing(ensemble);
  } catch (error) {
    await ensemble.close();
    throw error;
  }
  return { ensemble, addresses: ensemble.addresses, connectString: ensemble.connectString, close: () => ensemble.close() };
}

/** The `serving` events of a member (`QuorumServer` and `WorkerServer` both emit them). */
interface ServingEvents {
  readonly serving: boolean;
  on(event: 'serving', listener: (serving: boolean) => void): unknown;
  off(event: 'serving', listener: (serving: boolean) => void): unknown;
}

/** Resolves once every server of `ensemble` serves. */
export function whenAllServing(ensemble: { readonly servers: readonly ServingEvents[] }): Promise<void> {
  const all = (): boolean => ensemble.servers.every((s) => s.serving);
  if (all()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (!all()) return;
      for (const s of ensemble.servers) s.off('serving', check);
      resolve();
    };
    for (const s of ensemble.servers) s.on('serving', check);
  });
}

/** `zoostate start`: resolves with the exit code after a signal. */
export async function startCommand(argv: readonly string[]): Promise<number> {
  const settings = parseStartArgs(argv);
  if (settings === undefined) {
    process.stdout.write(START_HELP);
    return 0;
  }
  const started = await startServing(settings);
  process.stdout.write(`ready ${started.connectString}\n`);
  return runUntilSignal(() => started.close());
}
