/**
 * Inside a server worker: one `QuorumServer` with its `ClientService` and a ZooKeeper
 * client port on TCP, its peers reached over the `WorkerHub`'s MessageChannels, driven
 * by the controller through the control port (protocol.ts).
 *
 * Restarts keep the storage object (memory or file), as `QuorumServer.restart` does;
 * each start needs a fresh hub registration, which the controller sends with `start`
 * (the first one came with `workerData`). The client port lives as long as the worker:
 * while the server is stopped it refuses sessions (four-letter words still answer).
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import type { ServerId } from '../../protocol/peer.js';
import { systemClock } from '../../runtime/clock.js';
import { seededRandom } from '../../runtime/random.js';
import { FileStorage } from '../../storage/file.js';
import { MemoryStorage } from '../../storage/memory.js';
import type { Storage } from '../../storage/types.js';
import { WorkerTransport } from '../../transport/worker.js';
import type { ClientPort } from '../client-port.js';
import { ClientService } from '../client-service.js';
import { QuorumServer } from '../quorum-server.js';
import { serveServer } from '../serve.js';
import type { ControlReply, ControlRequest, ServerWorkerConfig, WorkerMessage, WorkerServerStatus } from './protocol.js';

const BIND_RETRY_MS = 20;

/** Open the configured storage (a file storage opens its directory on the server's first start). */
function openStorage(config: ServerWorkerConfig): Storage {
  const s = config.storage;
  return s.kind === 'file' ? new FileStorage({ dir: s.dir, clock: systemClock, ...(s.fsync !== undefined ? { fsync: s.fsync } : {}) }) : new MemoryStorage({ clock: systemClock });
}

/** What the worker reports; `full` adds the digest and node count (O(tree)). */
function statusOf(server: QuorumServer, full: boolean): WorkerServerStatus {
  let epoch = 0;
  let acceptedEpoch = 0;
  let lastZxid = 0;
  let lastAppliedZxid = 0;
  let digest: string | undefined;
  let nodeCount: number | undefined;
  try {
    const db = server.db; // throws before the first start
    epoch = db.currentEpoch;
    acceptedEpoch = db.acceptedEpoch;
    lastZxid = db.lastZxid;
    lastAppliedZxid = db.lastAppliedZxid;
    if (full) {
      digest = db.tree.digest();
      nodeCount = db.tree.nodeCount;
    }
  } catch {
    // never started: zeros
  }
  return {
    id: server.id,
    threadId,
    state: server.state,
    role: server.role,
    phase: server.phase,
    serving: server.serving,
    running: server.running,
    epoch,
    acceptedEpoch,
    lastZxid,
    lastAppliedZxid,
    leaderId: server.leaderId,
    ...(digest !== undefined ? { digest, nodeCount } : {}),
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Run server `config.id` in this worker until the controller closes it. `firstTransport`
 * is the hub registration for the first start. Resolves once the server has started (or
 * a `fatal` message has been posted).
 */
export async function hostServer(config: ServerWorkerConfig, control: MessagePort, firstTransport: MessagePort): Promise<void> {
  const post = (message: WorkerMessage): void => control.postMessage(message);
  let nextTransport: MessagePort | undefined = firstTransport;
  const addresses = new Map<ServerId, string>(config.clientAddresses);
  let port: ClientPort | undefined;
  let server: QuorumServer;
  try {
    server = new QuorumServer({
      id: config.id,
      membership: config.membership,
      transport: () => {
        const registration = nextTransport;
        nextTransport = undefined;
        if (registration === undefined) throw new Error(`server ${config.id}: started without a hub registration`);
        return new WorkerTransport(config.id, registration, { clock: systemClock });
      },
      storage: openStorage(config),
      clock: systemClock,
      random: seededRandom(config.seed),
      timing: config.timing,
      ...(config.historyCapacity !== undefined ? { historyCapacity: config.historyCapacity } : {}),
      ...(config.snapCount !== undefined ? { snapCount: config.snapCount } : {}),
      ...(config.zab !== undefined ? { zab: config.zab } : {}),
      ...(config.treeOptions !== undefined ? { treeOptions: config.treeOptions } : {}),
      ...(config.election !== undefined ? { election: config.election } : {}),
      ...(config.configAddresses !== undefined ? { addresses: config.configAddresses } : {}),
    });
    const service = new ClientService(server, config.session);
    port = await listen(server, service, config, addresses, post);
  } catch (error) {
    post({ type: 'fatal', error: errorText(error) });
    control.close();
    return;
  }
  const push = (): void => post({ type: 'status', status: statusOf(server, false) });
  server.on('state', push);
  server.on('serving', push);
  server.on('trace', (event) => {
    post({ type: 'trace', event });
    if (event.type === 'epoch') push();
  });

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await server.stopAsync();
    await port?.close();
  };
  /** Reply once `run` is done; only a `status` request pays for the digest (O(tree)). */
  const answer = (seq: number, run: () => Promise<void>, full = false): void => {
    run().then(
      () => post({ type: 'reply', seq, ok: true, status: statusOf(server, full) } satisfies ControlReply),
      (error: unknown) => post({ type: 'reply', seq, ok: false, error: errorText(error) } satisfies ControlReply),
    );
  };
  control.on('message', (request: ControlRequest) => {
    switch (request.type) {
      case 'status':
        answer(request.seq, async () => {}, true);
        break;
      case 'stop':
        answer(request.seq, () => server.stopAsync());
        break;
      case 'start':
        answer(request.seq, async () => {
          if (closed) throw new Error(`server ${config.id}: closed`);
          if (server.running) {
            request.transport.close(); // already running: the registration is not needed
            return;
          }
          nextTransport = request.transport;
          await server.startAsync();
        });
        break;
      case 'close':
        answer(request.seq, close);
        break;
      case 'addresses':
        for (const [id, address] of request.addresses) addresses.set(id, address);
        break;
    }
  });
  // The controller went away (its port closed): nothing will drive this server again.
  control.once('close', () => void close());
  post({ type: 'listening', port: port.address().port });
  await server.startAsync();
}

async function listen(
  server: QuorumServer,
  service: ClientService,
  config: ServerWorkerConfig,
  addresses: ReadonlyMap<ServerId, string>,
  post: (message: WorkerMessage) => void,
): Promise<ClientPort> {
  const c = config.client;
  const dataDir = config.storage.kind === 'file' ? config.storage.dir : '';
  for (let attempt = 0; ; attempt++) {
    try {
      return await serveServer(server, service, {
        host: c.host,
        port: c.port,
        ...(c.limits !== undefined ? { limits: c.limits } : {}),
        ...(c.fourLetterWords !== undefined ? { fourLetterWords: c.fourLetterWords } : {}),
        ...(c.version !== undefined ? { version: c.version } : {}),
        ...(c.log ? { log: (line: string) => post({ type: 'log', line }) } : {}),
        info: () => ({ dataDir, clientAddresses: () => addresses }),
      });
    } catch (error) {
      const busy = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!busy || attempt >= c.bindRetries) throw error;
      await new Promise<void>((resolve) => systemClock.setTimeout(resolve, BIND_RETRY_MS));
    }
  }
}
