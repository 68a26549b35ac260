/**
 * A distributed lock under contention: five workers (each its own session) take turns
 * on one lock; each holder prints its fencing token, which grows from holder to holder.
 * A sixth worker gives up after a timeout and leaves nothing behind.
 *
 *   npx tsx examples/lock.ts [connectString]     (default 127.0.0.1:2181)
 */
import { Lock, WaitTimeoutError, createClient, type ZooKeeperClient } from '../src/index.js';

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const path = `/lock-example-${process.pid}`;
const started = Date.now();
const say = (text: string): void => console.log(`${String(Date.now() - started).padStart(5)} ms  ${text}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function worker(name: string, client: ZooKeeperClient): Promise<void> {
  const lock = new Lock(client, path, { data: name });
  for (let round = 1; round <= 2; round++) {
    say(`${name} waits for the lock`);
    const lease = await lock.acquire({ timeout: 30_000 });
    say(`${name} holds the lock (round ${round}, fencing token ${lease.token})`);
    lease.on('suspended', () => say(`${name}: connection suspended, stop using the resource`));
    await sleep(50 + Math.floor(Math.random() * 100));
    say(`${name} releases`);
    await lease.release();
  }
}

async function main(): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: 6 }, async () => {
      const client = createClient(connectString, { sessionTimeout: 10_000 });
      await client.waitUntilConnected();
      return client;
    }),
  );
  const impatient = (async () => {
    await sleep(150); // the workers are in line by now
    say('impatient waits at most 200 ms');
    try {
      const lease = await new Lock(clients[5]!, path).acquire({ timeout: 200 });
      say(`impatient got the lock (fencing token ${lease.token})`);
      await lease.release();
    } catch (error) {
      if (error instanceof WaitTimeoutError) say('impatient gave up after 200 ms; its node and watch are gone');
      else throw error;
    }
  })();
  await Promise.all([...clients.slice(0, 5).map((c, i) => worker(`worker-${i + 1}`, c)), impatient]);
  say(`nodes left under ${path}: ${(await clients[0]!.getChildren(path).catch(() => [])).length}`);
  for (const client of clients) await client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
