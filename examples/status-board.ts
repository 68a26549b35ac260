/**
 * The design seed's scenario: three participants A, B and C in one process register
 * their status under /status, watch the board, and take exclusive sync turns. While one
 * syncs, the others pause; when two ask at once, the lower sequence number goes first.
 * (examples/workers/run.ts runs the same participants each in its own worker_thread.)
 *
 *   npx tsx examples/status-board.ts [connectString]     (default 127.0.0.1:2181)
 */
import { describeBoard, joinAsParticipant, sleep, takeSyncTurn, type BoardParticipant } from './shared/status-board-participant.js';

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const root = `/status-example-${process.pid}`;
const started = Date.now();
const say = (text: string): void => console.log(`${String(Date.now() - started).padStart(5)} ms  ${text}`);

async function main(): Promise<void> {
  const participants: BoardParticipant[] = [];
  for (const name of ['A', 'B', 'C']) participants.push(await joinAsParticipant(connectString, root, name, say));
  const [A, B, C] = participants as [BoardParticipant, BoardParticipant, BoardParticipant];
  await sleep(100);
  say(`board: ${describeBoard(A.member)}`);

  say('A asks for a sync turn');
  await takeSyncTurn(A.member, say, { workMs: 300, publish: true });
  await sleep(100);

  say('B and C ask at the same time; the lower sequence number goes first');
  await Promise.all([B, C].map((p) => takeSyncTurn(p.member, say, { workMs: 200, note: '; the other waits' })));
  await sleep(100);
  say(`board: ${describeBoard(A.member)}`);

  say('everyone leaves: nodes deleted, watches removed');
  for (const p of participants) await p.member.leave();
  for (const p of participants) await p.client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
