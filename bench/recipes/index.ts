/**
 * Recipe benchmarks: lock acquire/release cycles per second (uncontended, 10 and 100
 * contenders) and leader failover time (a leader's session is killed → the next leader
 * acts). Throughput is also given as a ratio against a baseline measured in the same
 * run on the same service: create+delete round trips of one client, the floor of a lock
 * cycle (which costs a protected create, getChildren, an exists-watch on the holder's
 * own node, pipelined, and a delete).
 *
 * Service: by default an embedded 3-server zoostate ensemble in this process (memory
 * storage, in-process clients); `--connect=host:port[,...]` (or env
 * `ZOOSTATE_BENCH_CONNECT`) for a running service over TCP; `--apache` for a standalone
 * Apache ZooKeeper started with test/support/apache-zookeeper.ts (Debian's `zookeeper`).
 *
 *   node --expose-gc --import tsx bench/recipes/index.ts [--connect=127.0.0.1:2181 | --apache] [--quick] [--json]
 */
import { performance } from 'node:perf_hooks';
import { CreateMode, InProcessLink, LeaderLatch, Lock, createClient, startEnsemble, type ChannelFactory, type ZooKeeperClient } from '../../src/index.js';
import { apacheZooKeeperAvailable, startStandalone } from '../../test/support/apache-zookeeper.js';
import { percentile, quick, report, type Metric } from '../report.js';

function connectOption(): string | undefined {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('--connect=')) return arg.slice('--connect='.length);
    if (arg === '--connect') return args[i + 1];
  }
  return process.env['ZOOSTATE_BENCH_CONNECT'] || undefined;
}

const root = `/bench-recipes-${process.pid}`;

/** What the benchmark runs against. */
interface Service {
  name: string;
  connectString: string;
  /** How clients reach it (default: TCP). */
  channelFactory?: ChannelFactory;
  close(): Promise<void>;
}

/** The service the command line asks for; undefined (with a message) when it cannot be had. */
async function openService(): Promise<Service | undefined> {
  const connectString = connectOption();
  if (connectString !== undefined) return { name: connectString, connectString, close: async () => {} };
  if (process.argv.includes('--apache')) {
    if (!apacheZooKeeperAvailable()) {
      console.log('recipes: skipped (--apache given, but Apache ZooKeeper is not installed)');
      return undefined;
    }
    const zk = await startStandalone({ tickTime: 100 });
    return { name: 'Apache ZooKeeper (standalone)', connectString: zk.connectString, close: () => zk.close() };
  }
  const ensemble = await startEnsemble({ servers: 3 });
  return {
    name: 'embedded zoostate ensemble (3 servers, in-process clients)',
    connectString: ensemble.connectString,
    channelFactory: new InProcessLink(ensemble).factory,
    close: () => ensemble.close(),
  };
}

let service: Service;

async function connect(connectString: string, sessionTimeout = 10_000): Promise<ZooKeeperClient> {
  const client = createClient(connectString, { sessionTimeout, reconnectDelay: 20, spinDelay: 50, channelFactory: service.channelFactory });
  client.on('error', () => {});
  await client.waitUntilConnected();
  return client;
}

/** Baseline: sequential create+delete pairs of one client, per second. */
async function baseline(client: ZooKeeperClient, seconds: number): Promise<number> {
  const path = `${root}/baseline`;
  const end = performance.now() + seconds * 1000;
  let pairs = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await client.create(path, null, { mode: CreateMode.EPHEMERAL });
    await client.delete(path);
    pairs++;
  }
  return pairs / ((performance.now() - start) / 1000);
}

/**
 * `contenders` Lock instances spread over at most `maxClients` clients, each looping
 * acquire → release for `seconds`; returns completed cycles per second.
 */
async function lockCycles(connectString: string, contenders: number, seconds: number, maxClients = 10): Promise<number> {
  const clients = await Promise.all(Array.from({ length: Math.min(contenders, maxClients) }, () => connect(connectString)));
  const path = `${root}/lock-${contenders}`;
  let cycles = 0;
  let running = true;
  const start = performance.now();
  const timer = setTimeout(() => (running = false), seconds * 1000);
  await Promise.all(
    Array.from({ length: contenders }, async (_, i) => {
      const lock = new Lock(clients[i % clients.length]!, path);
      while (running) {
        const lease = await lock.acquire();
        cycles++;
        await lease.release();
      }
    }),
  );
  clearTimeout(timer);
  const elapsed = (performance.now() - start) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  return cycles / elapsed;
}

/** Failover: kill the leader's session; time until the next leader's isLeader. */
async function failover(connectString: string, rounds: number): Promise<number[]> {
  const path = `${root}/election`;
  const times: number[] = [];
  const candidates: { client: ZooKeeperClient; latch: LeaderLatch }[] = [];
  let acted: ((at: number) => void) | undefined;
  const join = async (): Promise<void> => {
    const client = await connect(connectString, 4000);
    const latch = new LeaderLatch(client, path);
    latch.on('isLeader', () => acted?.(performance.now()));
    await latch.start();
    candidates.push({ client, latch });
  };
  for (let i = 0; i < 3; i++) await join();
  for (let round = 0; round < rounds; round++) {
    let leader: { client: ZooKeeperClient; latch: LeaderLatch } | undefined;
    while ((leader = candidates.find((c) => c.latch.hasLeadership)) === undefined) await new Promise((r) => setTimeout(r, 5));
    const next = new Promise<number>((resolve) => (acted = resolve));
    const killer = createClient(connectString, {
      sessionId: leader.client.sessionId,
      sessionPassword: leader.client.sessionPassword,
      channelFactory: service.channelFactory,
    });
    await killer.waitUntilConnected();
    const killedAt = performance.now();
    await killer.close(); // the session ends here, as an expiry would end it
    times.push((await next) - killedAt);
    acted = undefined;
    candidates.splice(candidates.indexOf(leader), 1);
    await leader.latch.close();
    await leader.client.close();
    await join();
  }
  for (const c of candidates) {
    await c.latch.close();
    await c.client.close();
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const opened = await openService();
  if (opened === undefined) return;
  service = opened;
  const { connectString } = service;
  const seconds = quick ? 0.5 : 3;
  try {
    const admin = await connect(connectString);
    await admin.create(root).catch(() => undefined);
    // Warm-up (JIT, the ensemble's first elections and sessions), not reported.
    await baseline(admin, seconds / 2);
    await lockCycles(connectString, 10, seconds / 2);
    const base = await baseline(admin, seconds);
    const uncontended = await lockCycles(connectString, 1, seconds);
    const ten = await lockCycles(connectString, 10, seconds);
    const hundred = await lockCycles(connectString, 100, seconds);
    const times = await failover(connectString, quick ? 3 : 10);
    await admin.close();
    const metrics: Metric[] = [
      { metric: 'client.create_delete_per_s', value: Math.round(base), unit: 'pairs/s', note: `baseline: one client, sequential; ${service.name}` },
      { metric: 'lock.cycles_per_s_uncontended', value: Math.round(uncontended), unit: 'cycles/s' },
      { metric: 'lock.cycles_per_s_10', value: Math.round(ten), unit: 'cycles/s', note: '10 contenders' },
      { metric: 'lock.cycles_per_s_100', value: Math.round(hundred), unit: 'cycles/s', note: '100 contenders on 10 clients' },
      { metric: 'lock.uncontended_vs_baseline', value: uncontended / base, unit: 'ratio' },
      { metric: 'lock.contended_10_vs_baseline', value: ten / base, unit: 'ratio' },
      { metric: 'lock.contended_100_vs_baseline', value: hundred / base, unit: 'ratio' },
      { metric: 'leader.failover_ms_p50', value: percentile(times, 50), unit: 'ms', note: `session killed → next leader acts, ${times.length} rounds` },
      { metric: 'leader.failover_ms_max', value: times[times.length - 1] ?? NaN, unit: 'ms' },
    ];
    report('recipes', metrics);
  } finally {
    await service.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
