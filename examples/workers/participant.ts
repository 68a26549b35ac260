/**
 * Worker entry of examples/workers/run.ts: one status-board participant in its own
 * worker_thread, with its own zoostate wire client on the ensemble's connect string. It
 * runs the shared participant behaviour (examples/shared/status-board-participant.ts) on
 * the main thread's commands and reports every state change to it; after `leave` it
 * closes its session and lets the thread end.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { describeBoard, joinAsParticipant, takeSyncTurn, type Say } from '../shared/status-board-participant.js';
import { IN_TURN, SEQ, type ParticipantCommand, type ParticipantData, type ParticipantMessage } from './protocol.js';

if (parentPort === null) throw new Error('examples/workers/participant.ts runs in a worker thread (started by run.ts)');
const port: MessagePort = parentPort;
const { name, connectString, root, counters } = workerData as ParticipantData;
const shared = new Int32Array(counters);
const post = (message: ParticipantMessage): void => port.postMessage(message);
const say: Say = (text) => post({ type: 'say', seq: Atomics.add(shared, SEQ, 1), text });

const me = await joinAsParticipant(connectString, root, name, say);
say(`${name} joined the board under ${root} (session 0x${me.client.sessionId.toString(16)})`);
post({ type: 'joined' });

// One command at a time, in order.
let queue = Promise.resolve();
const onCommand = (command: ParticipantCommand): void => {
  queue = queue.then(() => run(command));
};
port.on('message', onCommand);

async function run(command: ParticipantCommand): Promise<void> {
  switch (command.type) {
    case 'sync':
      say(`${name} asks for a sync turn`);
      await takeSyncTurn(me.member, say, {
        workMs: command.workMs,
        publish: command.publish,
        note: command.note,
        // Counted inside the turn, across threads: it must always be 1.
        onBegin: () => `${Atomics.add(shared, IN_TURN, 1) + 1} in a sync turn`,
        onEnd: () => {
          Atomics.sub(shared, IN_TURN, 1);
          say(`${name} ends its sync turn`);
        },
      });
      post({ type: 'synced' });
      return;
    case 'board':
      post({ type: 'board', text: describeBoard(me.member) });
      return;
    case 'leave':
      await me.member.leave();
      await me.client.close();
      say(`${name} left and closed its session`);
      post({ type: 'left' });
      port.off('message', onCommand); // nothing else keeps the thread alive: it exits
      return;
  }
}
