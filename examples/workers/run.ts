/**
 * The status-board participants A, B and C, each in its own worker_thread, against a
 * three-server ensemble whose servers also run in worker_threads:
 *
 *   npx tsx examples/workers/run.ts
 *
 * The main thread starts the ensemble (`startEnsemble({ transport: 'worker' })`: each
 * server in a worker with its own TCP client port), then one worker per participant
 * (participant.ts), each connecting zoostate's wire client to the ensemble's connect
 * string. It directs the scenario of examples/status-board.ts (A syncs alone, then B and
 * C ask at once), prints every line the participants report prefixed with their name and
 * thread id, lets them leave, waits for their threads to exit and closes the ensemble.
 * Exits 0 if everything went as expected.
 */
import { threadId, Worker } from 'node:worker_threads';
import { startEnsemble } from '../../src/index.js';
import { sleep } from '../shared/status-board-participant.js';
import type { ParticipantCommand, ParticipantData, ParticipantMessage } from './protocol.js';

const NAMES = ['A', 'B', 'C'] as const;
/** Give up (terminating everything) after this long. */
const WATCHDOG_MS = 60_000;

const started = Date.now();
const stamp = (): string => `${String(Date.now() - started).padStart(5)} ms`;
const say = (text: string): void => console.log(`${stamp()}  main  ${text}`);

/**
 * A worker running `url`. Under tsx (this file is .ts) the worker must load TypeScript:
 * on Node 20 `execArgv: ['--import', 'tsx']` does not reach a worker's entry module, so
 * a one-line bootstrap registers tsx's hooks first, as the worker ensemble does.
 */
function spawnWorker(url: URL, options: { workerData: unknown; name: string }): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const api = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** One participant's worker, seen from the main thread. */
class ParticipantThread {
  readonly worker: Worker;
  readonly threadId: number;
  /** Resolves with the exit code (rejects never: a crash is exit code 1 plus `error`). */
  readonly exited: Promise<number>;
  error: Error | undefined;
  private waiters: Array<{ type: ParticipantMessage['type']; resolve: (m: ParticipantMessage) => void; reject: (e: Error) => void }> = [];

  constructor(readonly name: string, data: ParticipantData) {
    const entry = new URL(import.meta.url.endsWith('.ts') ? './participant.ts' : './participant.js', import.meta.url);
    this.worker = spawnWorker(entry, { workerData: data, name: `participant ${name}` });
    this.threadId = this.worker.threadId;
    this.worker.on('message', (message: ParticipantMessage) => this.receive(message));
    this.worker.on('error', (error) => {
      this.error ??= error;
      console.error(`${stamp()}  ${this.label}  crashed: ${error.stack ?? error.message}`);
    });
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        const gone = this.error ?? new Error(`participant ${name} exited (code ${code})`);
        for (const w of this.waiters.splice(0)) w.reject(gone);
        resolve(code);
      }),
    );
  }

  get label(): string {
    return `${this.name} @thread ${this.threadId}`;
  }

  send(command: ParticipantCommand): void {
    this.worker.postMessage(command);
  }

  /** The next message of `type`. */
  next<T extends ParticipantMessage['type']>(type: T): Promise<Extract<ParticipantMessage, { type: T }>> {
    return new Promise((resolve, reject) => this.waiters.push({ type, resolve: resolve as (m: ParticipantMessage) => void, reject }));
  }

  /** Send `command` and wait for the reply of type `reply`. */
  ask<T extends ParticipantMessage['type']>(command: ParticipantCommand, reply: T): Promise<Extract<ParticipantMessage, { type: T }>> {
    const answer = this.next(reply);
    this.send(command);
    return answer;
  }

  private receive(message: ParticipantMessage): void {
    if (message.type === 'say') console.log(`${stamp()}  ${this.label}  #${String(message.seq).padStart(2, '0')}  ${message.text}`);
    const i = this.waiters.findIndex((w) => w.type === message.type);
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(message);
  }
}

async function main(): Promise<number> {
  say(`main thread ${threadId}: starting a 3-server ensemble, each server in its own worker thread`);
  const ensemble = await startEnsemble({ servers: 3, transport: 'worker', tickTime: 200 });
  const participants: ParticipantThread[] = [];
  let ok = true;
  const watchdog = setTimeout(() => {
    console.error(`${stamp()}  main  gave up after ${WATCHDOG_MS} ms`);
    for (const p of participants) void p.worker.terminate();
    void ensemble.close().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    await ensemble.whenAllServing();
    for (const s of ensemble.servers) say(`server ${s.id} @thread ${s.threadId}: ${s.role}, client port ${s.clientAddress}`);
    say(`connect string ${ensemble.connectString}`);

    const root = `/status-workers-${process.pid}`;
    const counters = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
    for (const name of NAMES) participants.push(new ParticipantThread(name, { name, connectString: ensemble.connectString, root, counters }));
    say(`started participants ${participants.map((p) => p.label).join(', ')}`);
    await Promise.all(participants.map((p) => p.next('joined')));
    say('all three joined the board');
    const [A, B, C] = participants as [ParticipantThread, ParticipantThread, ParticipantThread];
    await sleep(100);
    say(`board (as A sees it): ${(await A.ask({ type: 'board' }, 'board')).text}`);

    say('A asks for a sync turn');
    await A.ask({ type: 'sync', workMs: 300, publish: true, note: '' }, 'synced');
    await sleep(100);

    say('B and C ask at the same time; the lower sequence number goes first');
    await Promise.all([B, C].map((p) => p.ask({ type: 'sync', workMs: 200, publish: false, note: '; the other waits' }, 'synced')));
    await sleep(100);
    say(`board (as A sees it): ${(await A.ask({ type: 'board' }, 'board')).text}`);

    say('everyone leaves: nodes deleted, watches removed, sessions closed');
    for (const p of participants) await p.ask({ type: 'leave' }, 'left');
    const codes = await Promise.all(participants.map((p) => p.exited));
    for (const [i, p] of participants.entries()) say(`participant ${p.label} exited with code ${codes[i]}`);
    ok = codes.every((c) => c === 0) && participants.every((p) => p.error === undefined);
  } catch (error) {
    console.error(`${stamp()}  main  ${(error as Error).stack ?? String(error)}`);
    ok = false;
  } finally {
    for (const p of participants) await p.worker.terminate(); // no-op for a thread that ended
    const serverThreads = ensemble.servers.map((s) => `server ${s.id} @thread ${s.threadId}`).join(', ');
    await ensemble.close();
    say(`ensemble closed (${serverThreads})`);
    clearTimeout(watchdog);
  }
  say(ok ? 'done' : 'something went wrong (see above)');
  return ok ? 0 : 1;
}

process.exitCode = await main();
