/**
 * The design seed's scenario: three participants A, B and C in one process register
 * their status under /status, watch the board, and take exclusive sync turns. While one
 * syncs, the others pause; when two ask at once, the lower sequence number goes first.
 *
 *   npx tsx examples/status-board.ts [connectString]     (default 127.0.0.1:2181)
 */
import { createClient, joinStatusBoard, type BoardMember, type ZooKeeperClient } from '../src/index.js';

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const root = `/status-example-${process.pid}`;
const started = Date.now();
const say = (text: string): void => console.log(`${String(Date.now() - started).padStart(5)} ms  ${text}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const clients: ZooKeeperClient[] = [];
  const members: BoardMember<string>[] = [];
  for (const name of ['A', 'B', 'C']) {
    const client = createClient(connectString, { sessionTimeout: 10_000 });
    await client.waitUntilConnected();
    clients.push(client);
    const member = await joinStatusBoard<string>(client, root, name, `${name}:ready`);
    member.on('phase', (phase) => say(`${name} is ${phase}`));
    member.on('paused', (by) => say(`${name} pauses its own sync work: ${by} is syncing`));
    member.on('resumed', () => say(`${name} resumes`));
    members.push(member);
  }
  const [A, B, C] = members as [BoardMember<string>, BoardMember<string>, BoardMember<string>];
  await sleep(100);
  say(`board: ${A.board.snapshot.members.map((m) => `${m.name}(${m.phase}, ${m.status})`).join(' ')}`);

  say('A asks for a sync turn');
  await A.sync(async (turn) => {
    say(`A syncs (fencing token ${turn.token})`);
    await A.setStatus('A:syncing');
    await sleep(300);
    await A.setStatus('A:done');
  });
  await sleep(100);

  say('B and C ask at the same time; the lower sequence number goes first');
  await Promise.all(
    [B, C].map((member) =>
      member.sync(async (turn) => {
        say(`${member.name} syncs (fencing token ${turn.token}); the other waits`);
        await sleep(200);
      }),
    ),
  );
  await sleep(100);
  say(`board: ${A.board.snapshot.members.map((m) => `${m.name}(${m.phase}, ${m.status})`).join(' ')}`);

  say('everyone leaves: nodes deleted, watches removed');
  for (const member of members) await member.leave();
  for (const client of clients) await client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
