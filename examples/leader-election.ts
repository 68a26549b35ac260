/**
 * Leader election with failover: three candidates join a leader latch; the leader's
 * session is killed (closed from another connection, as an expiry would); the next
 * candidate takes over with a higher fencing token, which a downstream store uses to
 * refuse the deposed leader's late writes.
 *
 *   npx tsx examples/leader-election.ts [connectString]     (default 127.0.0.1:2181)
 */
import { LeaderLatch, createClient, type Leadership, type ZooKeeperClient } from '../src/index.js';

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const path = `/election-example-${process.pid}`;
const started = Date.now();
const say = (text: string): void => console.log(`${String(Date.now() - started).padStart(5)} ms  ${text}`);

/** A downstream store that only accepts writes with the highest fencing token seen. */
class FencedStore {
  private highest = -1;
  write(who: string, token: number, value: string): void {
    if (token < this.highest) {
      say(`store REFUSES ${who}'s write "${value}" (token ${token} < ${this.highest})`);
      return;
    }
    this.highest = token;
    say(`store accepts ${who}'s write "${value}" (token ${token})`);
  }
}

async function connect(): Promise<ZooKeeperClient> {
  const client = createClient(connectString, { sessionTimeout: 6000 });
  await client.waitUntilConnected();
  return client;
}

async function main(): Promise<void> {
  const store = new FencedStore();
  const candidates: { name: string; client: ZooKeeperClient; latch: LeaderLatch }[] = [];
  for (const name of ['alpha', 'beta', 'gamma']) {
    const client = await connect();
    const latch = new LeaderLatch(client, path, { id: name });
    latch.on('isLeader', (leadership: Leadership) => {
      say(`${name} leads (fencing token ${leadership.token})`);
      store.write(name, leadership.token, `hello from ${name}`);
    });
    latch.on('notLeader', (reason) => say(`${name} no longer leads (${reason})`));
    await latch.start();
    candidates.push({ name, client, latch });
  }
  const first = candidates.find((c) => c.latch.hasLeadership) ?? candidates[0]!;
  const deposed = await first.latch.awaitLeadership({ timeout: 10_000 });
  say(`line: ${(await first.latch.candidates()).map((c) => c.id).join(' → ')}`);

  say(`killing ${first.name}'s session`);
  const killer = createClient(connectString, { sessionId: first.client.sessionId, sessionPassword: first.client.sessionPassword });
  await killer.waitUntilConnected();
  await killer.close();

  const next = await Promise.any(candidates.filter((c) => c !== first).map((c) => c.latch.awaitLeadership({ timeout: 15_000 })));
  say(`new leader's token ${next.token} > old token ${deposed.token}: ${next.token > deposed.token}`);
  // The deposed leader wakes up late and tries to write with its old token.
  store.write(first.name, deposed.token, 'late write from the old leader');

  for (const c of candidates) await c.latch.close();
  for (const c of candidates) await c.client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
