/**
 * Start and stop a real Apache ZooKeeper 3.8 (Debian package `zookeeper`) on free
 * loopback ports, for the compatibility suites: a standalone server or an N-node
 * ensemble, each in its own temporary directory.
 *
 * Each server is `java -cp zookeeper.jar:slf4j-simple.jar QuorumPeerMain zoo.cfg` in its
 * own process group. `stop`/`kill`/`start` control one node (failover tests); `close`
 * kills every group and removes the directory. Every process started is also killed
 * when the Node process exits, so nothing outlives the test run.
 *
 * ```ts
 * const zk = await startStandalone({ tickTime: 100 });
 * try { ... zk.connectString ... } finally { await zk.close(); }
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** Where Debian puts the jars. */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
export const SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar';

/** Options of a server or ensemble. */
export interface ApacheZooKeeperOptions {
  /** ms; default 100 (fast session expiry for tests). */
  tickTime?: number;
  /** ms; default 2 × tickTime. */
  minSessionTimeout?: number;
  /** ms; default 60 000. */
  maxSessionTimeout?: number;
  /** Enable TTL nodes (`zookeeper.extendedTypesEnabled`); default true. */
  extendedTypes?: boolean;
  /** Container/TTL reaper period, ms; default 100. */
  containerCheckIntervalMs?: number;
  /** How long to wait for the servers to serve, ms; default 60 000. */
  startTimeoutMs?: number;
  /** Extra zoo.cfg lines. */
  extraConfig?: Record<string, string | number>;
  /** Extra JVM arguments (e.g. `-Dreadonlymode.enabled=true`), placed before the main class. */
  javaOptions?: readonly string[];
}

/** One server of a running ZooKeeper. */
export interface ServerInfo {
  /** myid (1-based). */
  id: number;
  clientPort: number;
  /** `127.0.0.1:<clientPort>`. */
  address: string;
  /** True while its process runs. */
  running: boolean;
  /** Its log file (stdout and stderr). */
  logFile: string;
}

/** A running standalone server or ensemble. */
export interface ApacheZooKeeper {
  /** Every server's address, comma-separated. */
  readonly connectString: string;
  readonly servers: readonly ServerInfo[];
  /** SIGTERM one server (0-based index) and wait for its exit. */
  stop(index: number): Promise<void>;
  /** SIGKILL one server and wait for its exit. */
  kill(index: number): Promise<void>;
  /** Start a stopped server again (same config and data) and wait until it serves. */
  start(index: number): Promise<void>;
  /** Wait until every running server serves clients. */
  waitServing(timeoutMs?: number): Promise<void>;
  /** Send a four-letter word to one server and return the reply. */
  fourLetterWord(index: number, word: string): Promise<string>;
  /** Kill everything and remove the temporary directory. Idempotent. */
  close(): Promise<void>;
}

/** True if Java and the ZooKeeper jars are installed. */
export function apacheZooKeeperAvailable(): boolean {
  return existsSync(ZOOKEEPER_JAR) && existsSync(SLF4J_SIMPLE_JAR) && ['/usr/bin/java', '/usr/local/bin/java'].some((p) => existsSync(p));
}

/**
 * Runs the server under `sh`: if this Node process dies in any way (even SIGKILL), the
 * pipe on the watchdog's stdin closes and Java is killed. SIGTERM to the process group
 * reaches Java directly; the shell waits for it to finish shutting down.
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null &',
  'pid=$!',
  '( read _ <&3; kill -9 "$pid" 2>/dev/null ) &',
  'watcher=$!',
  'trap : TERM INT',
  'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; done',
  'kill "$watcher" 2>/dev/null',
].join('\n');

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const child of live) killGroup(child, 'SIGKILL');
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal); // the default action, now that our listener is gone
    });
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Send a four-letter word to `127.0.0.1:port` and collect the reply (empty on error). */
export function fourLetterWord(port: number, word: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', done);
    socket.on('close', done);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Node {
  info: ServerInfo;
  dir: string;
  config: string;
  child: ChildProcess | undefined;
  exited: Promise<void> | undefined;
}

/** Start a standalone server. */
export function startStandalone(options: ApacheZooKeeperOptions = {}): Promise<ApacheZooKeeper> {
  return startServers(1, options);
}

/** Start an ensemble of `size` voting servers. */
export function startEnsemble(size = 3, options: ApacheZooKeeperOptions = {}): Promise<ApacheZooKeeper> {
  if (size < 2) throw new RangeError('an ensemble needs at least 2 servers; use startStandalone');
  return startServers(size, options);
}

async function startServers(size: number, options: ApacheZooKeeperOptions): Promise<ApacheZooKeeper> {
  if (!apacheZooKeeperAvailable()) throw new Error(`Apache ZooKeeper is not installed (${ZOOKEEPER_JAR}, java)`);
  installExitHook();
  const tickTime = options.tickTime ?? 100;
  const root = mkdtempSync(join(tmpdir(), 'zoostate-apache-zk-'));
  const ports = await Promise.all(Array.from({ length: size * 3 }, () => freePort()));
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++) {
    const id = i + 1;
    const dir = join(root, `server${id}`);
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    if (size > 1) writeFileSync(join(dataDir, 'myid'), `${id}\n`);
    const clientPort = ports[i * 3]!;
    const lines: Record<string, string | number> = {
      tickTime,
      initLimit: 50,
      syncLimit: 20,
      dataDir,
      clientPort,
      clientPortAddress: '127.0.0.1',
      maxClientCnxns: 0,
      minSessionTimeout: options.minSessionTimeout ?? 2 * tickTime,
      maxSessionTimeout: options.maxSessionTimeout ?? 60_000,
      '4lw.commands.whitelist': '*',
      'admin.enableServer': 'false',
      ...options.extraConfig,
    };
    if (size > 1) {
      for (let j = 0; j < size; j++) lines[`server.${j + 1}`] = `127.0.0.1:${ports[j * 3 + 1]}:${ports[j * 3 + 2]}`;
    }
    const config = join(dir, 'zoo.cfg');
    writeFileSync(config, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    nodes.push({
      info: { id, clientPort, address: `127.0.0.1:${clientPort}`, running: false, logFile: join(dir, 'zookeeper.log') },
      dir,
      config,
      child: undefined,
      exited: undefined,
    });
  }

  const spawnNode = (node: Node): void => {
    const log = openSync(node.info.logFile, 'a');
    const child = spawn(
      'sh',
      [
        '-c',
        WATCHDOG,
        'zookeeper-watchdog',
        'java',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Xms32m',
        '-Xmx256m',
        `-Dzookeeper.extendedTypesEnabled=${options.extendedTypes ?? true}`,
        `-Dznode.container.checkIntervalMs=${options.containerCheckIntervalMs ?? 100}`,
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-Dzookeeper.admin.enableServer=false',
        ...(options.javaOptions ?? []),
        '-cp',
        `${ZOOKEEPER_JAR}:${SLF4J_SIMPLE_JAR}`,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        node.config,
      ],
      // stdin stays an open pipe: the watchdog kills Java when it closes (this process died).
      { detached: true, stdio: ['pipe', log, log] },
    );
    closeSync(log);
    live.add(child);
    node.child = child;
    node.info.running = true;
    node.exited = new Promise((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        node.info.running = false;
        resolve();
      });
    });
  };

  const serving = async (node: Node): Promise<boolean> => {
    const srvr = await fourLetterWord(node.info.clientPort, 'srvr', 1000);
    return /Mode: (standalone|leader|follower|observer)/.test(srvr);
  };

  const waitServing = async (timeoutMs = options.startTimeoutMs ?? 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = nodes.filter((n) => n.info.running);
      const states = await Promise.all(running.map(serving));
      if (states.every(Boolean)) return;
      for (const n of running) {
        if (!n.info.running) throw new Error(`ZooKeeper server ${n.info.id} exited; log:\n${tail(n.info.logFile)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`ZooKeeper did not serve within ${timeoutMs} ms; log of server 1:\n${tail(nodes[0]!.info.logFile)}`);
      }
      await sleep(50);
    }
  };

  const stopWith = async (index: number, signal: NodeJS.Signals): Promise<void> => {
    const node = nodes[index];
    if (node === undefined) throw new RangeError(`no server ${index}`);
    if (node.child === undefined || !node.info.running) return;
    killGroup(node.child, signal);
    const timer = setTimeout(() => node.child && killGroup(node.child, 'SIGKILL'), 10_000);
    await node.exited;
    clearTimeout(timer);
  };

  let closed = false;
  const zk: ApacheZooKeeper = {
    connectString: nodes.map((n) => n.info.address).join(','),
    servers: nodes.map((n) => n.info),
    stop: (index) => stopWith(index, 'SIGTERM'),
    kill: (index) => stopWith(index, 'SIGKILL'),
    async start(index) {
      const node = nodes[index];
      if (node === undefined) throw new RangeError(`no server ${index}`);
      if (node.info.running) return;
      spawnNode(node);
      await waitServing();
    },
    waitServing,
    fourLetterWord: (index, word) => fourLetterWord(nodes[index]!.info.clientPort, word),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(nodes.map((_, i) => stopWith(i, 'SIGKILL')));
      rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    for (const node of nodes) spawnNode(node);
    await waitServing();
  } catch (error) {
    await zk.close();
    throw error;
  }
  return zk;
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
