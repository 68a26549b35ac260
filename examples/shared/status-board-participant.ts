/**
 * What one participant of the status-board example does, shared by
 * examples/status-board.ts (A, B and C in one process) and examples/workers/ (each in its
 * own worker_thread): connect, join the board and narrate its state changes, take an
 * exclusive sync turn, leave. Every line goes through `say`, so the caller decides where
 * it is printed.
 */
import { createClient, joinStatusBoard, type BoardMember, type ZooKeeperClient } from '../../src/index.js';

/** Where a participant's narration goes. */
export type Say = (text: string) => void;

/** One participant: its own session and its board membership. */
export interface BoardParticipant {
  readonly name: string;
  readonly client: ZooKeeperClient;
  readonly member: BoardMember<string>;
}

/** Options of one sync turn (`takeSyncTurn`). */
export interface SyncTurnOptions {
  /** How long the (simulated) sync work takes, in ms. */
  workMs: number;
  /** Publish the status `<name>:syncing` during the work and `<name>:done` after it. */
  publish?: boolean;
  /** Appended to the "syncs" line. */
  note?: string;
  /** Called first thing in the turn; its text goes into the "syncs" line's parentheses. */
  onBegin?: () => string;
  /** Called last thing in the turn, before it is released. */
  onEnd?: () => void;
}

/** Resolves after `ms` milliseconds (real time: this is an example). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Connect a client to `connectString`, join the board under `root` as `name` with the
 * status `<name>:ready`, and narrate the member's phase changes and pauses through `say`.
 */
export async function joinAsParticipant(connectString: string, root: string, name: string, say: Say): Promise<BoardParticipant> {
  const client = createClient(connectString, { sessionTimeout: 10_000 });
  await client.waitUntilConnected();
  const member = await joinStatusBoard<string>(client, root, name, `${name}:ready`);
  member.on('phase', (phase) => say(`${name} is ${phase}`));
  member.on('paused', (by) => say(`${name} pauses its own sync work: ${by} is syncing`));
  member.on('resumed', () => say(`${name} resumes`));
  return { name, client, member };
}

/** Wait for an exclusive sync turn, do `workMs` of sync work in it, then release it. */
export async function takeSyncTurn(member: BoardMember<string>, say: Say, options: SyncTurnOptions): Promise<void> {
  await member.sync(async (turn) => {
    const extra = options.onBegin?.();
    say(`${member.name} syncs (fencing token ${turn.token}${extra === undefined ? '' : `; ${extra}`})${options.note ?? ''}`);
    try {
      if (options.publish) await member.setStatus(`${member.name}:syncing`);
      await sleep(options.workMs);
      if (options.publish) await member.setStatus(`${member.name}:done`);
    } finally {
      options.onEnd?.();
    }
  });
}

/** The board as `member` sees it: `name(phase, status)` of every member. */
export function describeBoard(member: BoardMember<string>): string {
  return member.board.snapshot.members.map((m) => `${m.name}(${m.phase}, ${m.status})`).join(' ');
}
