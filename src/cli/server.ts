/**
 * `zoostate server --config zoo.cfg`: one server of a multi-process (or multi-machine)
 * ensemble, configured by an unmodified ZooKeeper zoo.cfg plus the `myid` file in its
 * dataDir. Peers talk over TCP on each server's quorum port, authenticated with the
 * ensemble secret (`zoostate.secret` in zoo.cfg, `--secret`, or env ZOOSTATE_SECRET;
 * every member must use the same). Prints `ready host:port` for its own client port once
 * it serves; SIGTERM/SIGINT shut it down cleanly.
 *
 * Without `server.N` lines the server runs standalone (an ensemble of one).
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerId } from '../protocol/peer.js';
import { systemClock } from '../runtime/clock.js';
import { systemRandom } from '../runtime/random.js';
import { ClientService } from '../server/client-service.js';
import { parseWhitelist } from '../server/four-letter-words.js';
import type { QuorumServer } from '../server/quorum-server.js';
import { formatAddress, serveServer } from '../server/serve.js';
import { createQuorumServer, type ServerAddress } from '../server/server-config.js';
import { FileStorage } from '../storage/file.js';
import { MemoryStorage } from '../storage/memory.js';
import type { Storage } from '../storage/types.js';
import { InProcessNetwork } from '../transport/inproc.js';
import { UsageError, parseOptions, stringOption, type OptionSpec } from './args.js';
import { runUntilSignal, stderrLogger } from './lifecycle.js';
import { ZooCfgError, parseZooCfg, readMyId, type ZooCfg } from './zoo-cfg.js';

/** `zoostate server --help`. */
export const SERVER_HELP = `Usage: zoostate server --config zoo.cfg [options]

Run one server of a ZooKeeper ensemble whose members are separate processes or
machines, configured by an unmodified ZooKeeper zoo.cfg. Its id is read from the
file 'myid' in dataDir, as ZooKeeper does. Prints one line once this server serves:

  ready <clientPortAddress>:<clientPort>

zoo.cfg settings used: tickTime, initLimit, syncLimit, dataDir (myid, and zoostate's
log and snapshots in dataDir/zoostate, or dataLogDir/zoostate), clientPort,
clientPortAddress, server.N=host:quorumPort:electionPort[:participant|:observer]
[;[clientAddress:]clientPort], 4lw.commands.whitelist (default: every word),
maxClientCnxns, minSessionTimeout, maxSessionTimeout, jute.maxbuffer,
reconfigEnabled, standaloneEnabled, zoostate.secret (the ensemble's peer
secret), and two of ZooKeeper's Java system properties as zoo.cfg keys:
readonlymode.enabled and zookeeper.DigestAuthenticationProvider.superDigest. A reconfiguration is kept in dataDir with the data (zoo.cfg is not
rewritten). Other options are reported by name on
stderr and ignored. Peers talk over TCP on the quorum port (election included: the
election port is accepted but unused). Without server.N lines the server is standalone.

Options:
  --config FILE   the zoo.cfg to read (required)
  --secret S      the ensemble's peer secret (default: zoostate.secret in zoo.cfg,
                  else env ZOOSTATE_SECRET, else a development secret; every member
                  must use the same one)
  --memory        keep no data on disk (ignore dataDir for storage)
  --quiet         do not log client-port events on stderr
  -h, --help      show this help
`;

const SPEC: Record<string, OptionSpec> = {
  config: { type: 'string' },
  secret: { type: 'string' },
  memory: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** What `zoostate server` runs, derived from zoo.cfg. */
export interface ServerPlan {
  cfg: ZooCfg;
  myid: ServerId;
  /** The members (a single local one when standalone). */
  servers: ServerAddress[];
  standalone: boolean;
  clientHost: string;
  clientPort: number;
  /** The address printed in the ready line. */
  readyHost: string;
  /** Where zoostate keeps its data (undefined: memory). */
  storageDir: string | undefined;
  secret: string | undefined;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** Work out what to run from a parsed zoo.cfg (throws ZooCfgError for what cannot work). */
export function planServer(cfg: ZooCfg, options: { secret?: string; memory?: boolean; env?: NodeJS.ProcessEnv } = {}): ServerPlan {
  const env = options.env ?? process.env;
  const standalone = cfg.servers.length === 0;
  let myid = 1;
  if (!standalone) {
    if (cfg.dataDir === undefined) throw new ZooCfgError('dataDir is required: it holds the myid file');
    myid = readMyId(cfg.dataDir);
  } else if (cfg.dataDir !== undefined && existsSync(join(cfg.dataDir, 'myid'))) {
    myid = readMyId(cfg.dataDir);
  }
  const self = cfg.servers.find((s) => s.id === myid);
  if (!standalone && self === undefined) throw new ZooCfgError(`myid ${myid} has no server.${myid} line`);
  const clientPort = self?.clientPort ?? cfg.clientPort;
  if (clientPort === undefined) throw new ZooCfgError(`no client port: set clientPort, or ';port' on server.${myid}`);
  const clientHost = self?.clientAddress ?? cfg.clientPortAddress ?? '0.0.0.0';
  const readyHost = !WILDCARDS.has(clientHost) ? clientHost : self !== undefined && !WILDCARDS.has(self.host) ? self.host : '127.0.0.1';
  const servers: ServerAddress[] = standalone
    ? [{ id: myid, host: '127.0.0.1', quorumPort: 0, electionPort: 0 }]
    : cfg.servers.map((s) => ({ ...s }));
  const dataRoot = cfg.dataLogDir ?? cfg.dataDir;
  return {
    cfg,
    myid,
    servers,
    standalone,
    clientHost,
    clientPort,
    readyHost,
    storageDir: options.memory === true || dataRoot === undefined ? undefined : join(dataRoot, 'zoostate'),
    secret: options.secret ?? cfg.secret ?? env['ZOOSTATE_SECRET'],
  };
}

/** Bytes under `dir` (0 if missing). */
function directorySize(dir: string | undefined): number {
  if (dir === undefined || !existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** A running `zoostate server`. */
export interface RunningServer {
  server: QuorumServer;
  service: ClientService;
  /** `host:port` of the client port. */
  address: string;
  close(): Promise<void>;
}

/** Start the server and its client port; resolves once it serves. */
export async function runServer(plan: ServerPlan, log?: (line: string) => void): Promise<RunningServer> {
  const cfg = plan.cfg;
  const storage: Storage = plan.storageDir !== undefined ? new FileStorage({ dir: plan.storageDir }) : new MemoryStorage({ clock: systemClock });
  const network = plan.standalone ? new InProcessNetwork({ clock: systemClock, random: systemRandom().fork('network') }) : undefined;
  const server = createQuorumServer({
    myid: plan.myid,
    servers: plan.servers,
    tickTime: cfg.tickTime,
    initLimit: cfg.initLimit,
    syncLimit: cfg.syncLimit,
    reconfigEnabled: cfg.reconfigEnabled,
    standaloneEnabled: cfg.standaloneEnabled,
    storage,
    ...(plan.secret !== undefined ? { secret: plan.secret } : {}),
    ...(network !== undefined ? { transport: () => network.endpoint(plan.myid) } : {}),
  });
  const service = new ClientService(server, {
    ...(cfg.minSessionTimeout !== undefined && cfg.minSessionTimeout > 0 ? { minSessionTimeout: cfg.minSessionTimeout } : {}),
    ...(cfg.maxSessionTimeout !== undefined && cfg.maxSessionTimeout > 0 ? { maxSessionTimeout: cfg.maxSessionTimeout } : {}),
    ...(cfg.superDigest !== undefined ? { superDigest: cfg.superDigest } : {}),
    ...(cfg.readOnlyMode ? { readOnlyMode: true } : {}),
  });
  const self = plan.servers.find((s) => s.id === plan.myid)!;
  const port = await serveServer(server, service, {
    host: plan.clientHost,
    port: plan.clientPort,
    limits: { maxClientCnxns: cfg.maxClientCnxns, ...(cfg.maxBuffer !== undefined ? { maxBuffer: cfg.maxBuffer } : {}) },
    fourLetterWords: cfg.fourLetterWords === '*' ? '*' : parseWhitelist(cfg.fourLetterWords.join(',')),
    ...(log !== undefined ? { log } : {}),
    info: () => ({
      dataDir: cfg.dataDir ?? '',
      dataLogDir: cfg.dataLogDir ?? cfg.dataDir ?? '',
      quorumPort: plan.standalone ? -1 : self.quorumPort,
      electionPort: plan.standalone ? -1 : self.electionPort,
      // A quorum member prints its current (maybe reconfigured) configuration.
      membership: () => (plan.standalone ? [] : server.configLines()),
      dirs: () => ({ dataDirSize: directorySize(cfg.dataDir), logDirSize: directorySize(cfg.dataLogDir ?? cfg.dataDir) }),
    }),
  });
  try {
    await server.startAsync();
    await whenServing(server);
  } catch (error) {
    await port.close();
    await server.stopAsync();
    throw error;
  }
  return {
    server,
    service,
    address: formatAddress(plan.readyHost, port.address().port),
    close: async () => {
      await port.close();
      await server.stopAsync();
      await network?.close();
    },
  };
}

function whenServing(server: QuorumServer): Promise<void> {
  if (server.serving) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (serving: boolean): void => {
      if (!serving) return;
      server.off('serving', on);
      resolve();
    };
    server.on('serving', on);
  });
}

/** `zoostate server`: resolves with the exit code after a signal. */
export async function serverCommand(argv: readonly string[]): Promise<number> {
  const args = parseOptions(argv, SPEC);
  if (args.options.get('help') === true) {
    process.stdout.write(SERVER_HELP);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const file = stringOption(args, 'config');
  if (file === undefined) throw new UsageError('--config zoo.cfg is required');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ZooCfgError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const cfg = parseZooCfg(text);
  for (const key of cfg.unsupported) process.stderr.write(`zoostate: ${file}: unsupported option '${key}' (ignored)\n`);
  const secret = stringOption(args, 'secret');
  const plan = planServer(cfg, { ...(secret !== undefined ? { secret } : {}), memory: args.options.get('memory') === true });
  const log = args.options.get('quiet') === true ? undefined : stderrLogger(`zoostate[${plan.myid}]: `);
  const running = await runServer(plan, log);
  process.stdout.write(`ready ${running.address}\n`);
  return runUntilSignal(() => running.close());
}
