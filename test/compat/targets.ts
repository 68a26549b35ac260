/**
 * The servers the real-client compatibility harnesses (kazoo's own test suite,
 * node-zookeeper-client, zkCli.sh, the C client's cli_mt) run against.
 *
 * A target is a running ZooKeeper service: the client address of every server plus a
 * control to stop and start each one. Every harness takes a `TargetFactory`, so the
 * same harness runs against Apache ZooKeeper 3.8 (the control, `apacheTarget`) and,
 * once its client port exists, against zoostate.
 *
 * ## Adding the zoostate target
 *
 * Write `zoostateTarget: TargetFactory` (in this file) and register it in `TARGETS`
 * as `zoostate`. Every harness then runs against it too (select with the environment
 * variable `ZOOSTATE_COMPAT_TARGETS=apache,zoostate`; default: every registered
 * target). It must:
 *
 * - start `settings.servers` voting servers (1 = standalone, 3 = an ensemble), each
 *   serving ZooKeeper clients on its own free port of 127.0.0.1, and resolve only once
 *   every server serves;
 * - honour every field of `TargetSettings`: session timeout bounds; `superDigest` (that
 *   digest identity passes every ACL check); `readOnlyMode` (a server cut off from its
 *   quorum serves read-only clients); `reconfig` (the `reconfig` operation is allowed,
 *   answering with the new dynamic configuration);
 * - answer the four-letter words on every client port. kazoo's `server_version()` sends
 *   `envi` to the server it is connected to and reads `zookeeper.version=3.8.0-…`;
 *   tests that need 3.4 or 3.5 (transactions, create with stat, read-only mode,
 *   reconfig, the lock-free queue) skip themselves without it, which counts as not
 *   passing;
 * - `stop(i)`: shut server i down keeping its data, resolving once its client port is
 *   closed; `kill(i)`: the same, abruptly; `start(i)`: start it again from its data,
 *   resolving once every running server serves; `isRunning(i)`;
 * - `close()`: stop everything and remove every temporary file; idempotent. Nothing
 *   it started may outlive the test process, even if that process is killed.
 *
 * Then run `ZOOSTATE_COMPAT_TARGETS=zoostate npm run test:compat`: the kazoo check
 * (`compareToBaseline` in kazoo/expectations.ts) requires every kazoo test that passes
 * against Apache ZooKeeper to pass against zoostate.
 */
import { zoostateTarget } from './zoostate/target.js';
import { apacheZooKeeperAvailable, startEnsemble, startStandalone, type ApacheZooKeeper, type ApacheZooKeeperOptions } from '../support/apache-zookeeper.js';

/** Server settings every target must honour. */
export interface TargetSettings {
  /** Voting servers: 1 (standalone) or 3. */
  servers: 1 | 3;
  /** ms; default 100: ZooKeeper's tick (session-expiry granularity; minimum session timeout 2 × tick by default). */
  tickTime?: number;
  /** ms; default 2 × tickTime. */
  minSessionTimeout?: number;
  /** ms; default 60 000. */
  maxSessionTimeout?: number;
  /**
   * `user:base64(sha1(user:password))`: that digest identity is a superuser (ZooKeeper's
   * `zookeeper.DigestAuthenticationProvider.superDigest`).
   */
  superDigest?: string;
  /** A server that lost its quorum serves read-only clients (`readonlymode.enabled`). */
  readOnlyMode?: boolean;
  /** Dynamic reconfiguration is allowed (`reconfigEnabled`). */
  reconfig?: boolean;
}

/** A running ZooKeeper service under test. */
export interface CompatTarget {
  /** Human name, e.g. `Apache ZooKeeper 3.8.0 (3 servers)`. */
  readonly name: string;
  /** Every server's client address `127.0.0.1:<port>`, in server order. */
  readonly servers: readonly string[];
  /** `servers` joined with commas. */
  readonly connectString: string;
  /** True while server `index` (0-based) runs. */
  isRunning(index: number): boolean;
  /** Graceful shutdown of one server, keeping its data; resolves once it is down. */
  stop(index: number): Promise<void>;
  /** Abrupt shutdown of one server (SIGKILL or equivalent). */
  kill(index: number): Promise<void>;
  /** Start a stopped server from its data; resolves once every running server serves. */
  start(index: number): Promise<void>;
  /** Stop everything and remove temporary files. Idempotent. */
  close(): Promise<void>;
}

/** Starts a target. */
export type TargetFactory = (settings: TargetSettings) => Promise<CompatTarget>;

/** Java system properties for Apache ZooKeeper that `TargetSettings` maps to. */
function apacheJavaOptions(settings: TargetSettings): string[] {
  const options = ['-Dfile.encoding=UTF-8'];
  if (settings.superDigest !== undefined) options.push(`-Dzookeeper.DigestAuthenticationProvider.superDigest=${settings.superDigest}`);
  if (settings.readOnlyMode === true) options.push('-Dreadonlymode.enabled=true');
  return options;
}

/** Apache ZooKeeper 3.8 (Debian's `zookeeper` package): the control every harness is checked against. */
export const apacheTarget: TargetFactory = async (settings) => {
  if (!apacheZooKeeperAvailable()) throw new Error('Apache ZooKeeper is not installed (apt-get install zookeeper); see .ci/run');
  const extraConfig: Record<string, string> = {};
  if (settings.reconfig === true) extraConfig['reconfigEnabled'] = 'true';
  const options: ApacheZooKeeperOptions = {
    tickTime: settings.tickTime ?? 100,
    ...(settings.minSessionTimeout !== undefined ? { minSessionTimeout: settings.minSessionTimeout } : {}),
    ...(settings.maxSessionTimeout !== undefined ? { maxSessionTimeout: settings.maxSessionTimeout } : {}),
    extraConfig,
    javaOptions: apacheJavaOptions(settings),
  };
  const zk: ApacheZooKeeper = settings.servers === 1 ? await startStandalone(options) : await startEnsemble(settings.servers, options);
  return {
    name: `Apache ZooKeeper 3.8.0 (${settings.servers === 1 ? 'standalone' : `${settings.servers} servers`})`,
    servers: zk.servers.map((s) => s.address),
    connectString: zk.connectString,
    isRunning: (index) => zk.servers[index]?.running ?? false,
    stop: (index) => zk.stop(index),
    kill: (index) => zk.kill(index),
    start: (index) => zk.start(index),
    close: () => zk.close(),
  };
};

/** Every target the harnesses know, by the name used in `ZOOSTATE_COMPAT_TARGETS`. */
export const TARGETS: Readonly<Record<string, TargetFactory>> = {
  apache: apacheTarget,
  zoostate: zoostateTarget,
};

/** One selected target. */
export interface NamedTarget {
  /** Its key in `TARGETS`. */
  key: string;
  factory: TargetFactory;
}

/**
 * The targets to run: `ZOOSTATE_COMPAT_TARGETS` (comma-separated keys of `TARGETS`),
 * default every registered target. Unknown names throw.
 */
export function selectedTargets(env: NodeJS.ProcessEnv = process.env): NamedTarget[] {
  const wanted = env['ZOOSTATE_COMPAT_TARGETS']?.split(',').map((s) => s.trim()).filter(Boolean) ?? Object.keys(TARGETS);
  return wanted.map((key) => {
    const factory = TARGETS[key];
    if (factory === undefined) throw new Error(`unknown compat target '${key}' (known: ${Object.keys(TARGETS).join(', ')})`);
    return { key, factory };
  });
}
