/**
 * Messages between examples/workers/run.ts (the main thread) and its participant
 * workers (participant.ts).
 */

/** `workerData` of a participant worker. */
export interface ParticipantData {
  /** The participant's name (A, B, C). */
  name: string;
  /** The ensemble's connect string. */
  connectString: string;
  /** The board's root znode. */
  root: string;
  /**
   * Two Int32 counters shared by every thread: [0] numbers every reported line (a total
   * order across threads, whatever order the main thread receives them in); [1] counts
   * participants inside a sync turn right now (exclusion checked across threads).
   */
  counters: SharedArrayBuffer;
}

/** Main thread to participant. */
export type ParticipantCommand =
  | { type: 'sync'; workMs: number; publish: boolean; note: string }
  | { type: 'board' }
  | { type: 'leave' };

/** Participant to main thread. */
export type ParticipantMessage =
  | { type: 'say'; seq: number; text: string }
  | { type: 'joined' }
  | { type: 'synced' }
  | { type: 'board'; text: string }
  | { type: 'left' };

/** Index of the line counter in `ParticipantData.counters`. */
export const SEQ = 0;
/** Index of the in-turn counter in `ParticipantData.counters`. */
export const IN_TURN = 1;
