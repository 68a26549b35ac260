/**
 * A double barrier: four workers start a computation together (nobody enters before
 * all four have arrived) and finish together (nobody leaves before all have left).
 *
 *   npx tsx examples/double-barrier.ts [connectString]     (default 127.0.0.1:2181)
 */
import { DoubleBarrier, createClient } from '../src/index.js';

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const path = `/barrier-example-${process.pid}`;
const started = Date.now();
const say = (text: string): void => console.log(`${String(Date.now() - started).padStart(5)} ms  ${text}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function worker(index: number): Promise<void> {
  const name = `worker-${index}`;
  const client = createClient(connectString, { sessionTimeout: 10_000 });
  await client.waitUntilConnected();
  const barrier = new DoubleBarrier(client, path, 4, { id: name });
  await sleep(index * 150); // arrive one after another
  say(`${name} arrives and waits to enter`);
  await barrier.enter({ timeout: 30_000 });
  say(`${name} entered: computing`);
  await sleep(100 + index * 120); // finish at different times
  say(`${name} done, waits for the others to leave`);
  await barrier.leave({ timeout: 30_000 });
  say(`${name} left`);
  await client.close();
}

Promise.all([1, 2, 3, 4].map(worker)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
