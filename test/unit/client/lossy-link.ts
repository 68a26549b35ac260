/**
 * Connection loss at a chosen request, for tests of the protected create and the
 * recipes on an in-process ensemble: a channel factory over an `InProcessLink` that cuts
 * the connection either after the server has applied a request and before its reply
 * arrives (`'reply'`: the client sees ConnectionLoss for a request that did happen, the
 * unknown-outcome case) or before the request reaches the server (`'request'`: it did
 * not happen). The session survives; the client reconnects as after any drop.
 */
import type { ChannelFactory, ChannelHandlers, ClientChannel } from '../../../src/client/channel.js';
import { createClient, type ClientOptions, type ZooKeeperClient } from '../../../src/client/client.js';
import type { ClientRequest } from '../../../src/protocol/records.js';
import { OpCode } from '../../../src/protocol/constants.js';
import { seededRandom } from '../../../src/runtime/random.js';
import type { Ensemble } from '../../../src/server/ensemble.js';
import { InProcessLink } from '../../../src/server/inproc-channel.js';
import type { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { connect, pass, serving, shutdown, until } from '../sessions/helpers.js';

/** Which side of a request the cut falls on. */
export type LossPoint = 'request' | 'reply';

interface Fault {
  match: (request: ClientRequest) => boolean;
  point: LossPoint;
  /** Runs right after the cut (e.g. to partition the link so the reconnect waits). */
  then?: () => void;
}

/** A fault-injecting channel factory; see the file header. */
export class LossyLink {
  /** Pass as `ClientOptions.channelFactory`. */
  readonly factory: ChannelFactory;
  /** Cuts made so far. */
  cuts = 0;
  private readonly faults: Fault[] = [];

  constructor(readonly link: InProcessLink) {
    this.factory = (address, handlers) => this.open(address, handlers);
  }

  /** Cut the connection at the next request matching `match` (faults queue up, first one first). */
  cutAt(match: (request: ClientRequest) => boolean, point: LossPoint, then?: () => void): void {
    this.faults.push({ match, point, then });
  }

  /** Faults not yet triggered. */
  get pending(): number {
    return this.faults.length;
  }

  private open(address: Parameters<ChannelFactory>[0], handlers: ChannelHandlers): ClientChannel {
    let dead = false;
    const victims = new Map<number, Fault>();
    const cut = (fault: Fault): void => {
      dead = true;
      this.cuts++;
      inner.close();
      handlers.closed(new Error('connection cut by the test'));
      fault.then?.();
    };
    const wrapped: ChannelHandlers = {
      connectResponse: (response) => {
        if (!dead) handlers.connectResponse(response);
      },
      reply: (header, response) => {
        if (dead) return;
        const fault = victims.get(header.xid);
        if (fault !== undefined) cut(fault);
        else handlers.reply(header, response);
      },
      notification: (event) => {
        if (!dead) handlers.notification(event);
      },
      closed: (error) => {
        if (dead) return;
        dead = true;
        handlers.closed(error);
      },
    };
    const inner = this.link.factory(address, wrapped);
    return {
      sendConnect: (request) => inner.sendConnect(request),
      send: (xid, request) => {
        if (dead) return;
        const index = this.faults.findIndex((f) => f.match(request));
        // Pings and auth never match: only ordinary requests are cut.
        if (index >= 0 && xid > 0) {
          const [fault] = this.faults.splice(index, 1);
          if (fault!.point === 'request') {
            queueMicrotask(() => {
              if (!dead) cut(fault!);
            });
            return;
          }
          victims.set(xid, fault!);
        }
        inner.send(xid, request);
      },
      close: () => {
        dead = true;
        inner.close();
      },
    };
  }
}

/** Matches creates (any create opcode) whose path contains `part`. */
export function createOf(part: string): (request: ClientRequest) => boolean {
  return (request) =>
    (request.type === OpCode.create || request.type === OpCode.create2 || request.type === OpCode.createContainer || request.type === OpCode.createTTL) &&
    request.path.includes(part);
}

/** Matches getChildren / getChildren2 of exactly `path`. */
export function listOf(path: string): (request: ClientRequest) => boolean {
  return (request) => (request.type === OpCode.getChildren || request.type === OpCode.getChildren2) && request.path === path;
}

/** Session timeout of `lossyClient`s, ms. */
export const LOSSY_SESSION_TIMEOUT = 6000;

/** A connected client of `ensemble` whose connection `lossy` can cut (`lossy.link` partitions it). */
export async function lossyClient(
  ensemble: Ensemble,
  clock: VirtualClock,
  options: Partial<ClientOptions> & { seed?: number } = {},
): Promise<{ client: ZooKeeperClient; lossy: LossyLink }> {
  const { seed = 7, ...rest } = options;
  const lossy = new LossyLink(new InProcessLink(ensemble));
  const client = createClient(ensemble.connectString, {
    clock,
    random: seededRandom(seed),
    sessionTimeout: LOSSY_SESSION_TIMEOUT,
    reconnectDelay: 50,
    spinDelay: 100,
    ...rest,
    channelFactory: lossy.factory,
  });
  client.on('error', () => {});
  await until(clock, client.waitUntilConnected());
  return { client, lossy };
}

/** What a `withLossyClient` body gets. */
export interface LossyFixture {
  ensemble: Ensemble;
  clock: VirtualClock;
  /** The client whose connection the test cuts. */
  client: ZooKeeperClient;
  lossy: LossyLink;
  /** A second, well-connected client (to look and to contend). */
  other: ZooKeeperClient;
  /** Heal the lossy link, wait for the reconnect and let background work run. */
  reconnect(): Promise<void>;
  /** `path`'s children as `other` sees them after a sync ([] if it does not exist). */
  children(path: string): Promise<string[]>;
}

/** Run `body` on a fresh serving ensemble with a lossy client and a plain one; shuts all down after. */
export async function withLossyClient(body: (f: LossyFixture) => Promise<void>, options: Parameters<typeof serving>[0] = {}): Promise<void> {
  const { ensemble, clock } = await serving(options);
  const { client, lossy } = await lossyClient(ensemble, clock);
  const { client: other } = await connect(ensemble, clock);
  const fixture: LossyFixture = {
    ensemble,
    clock,
    client,
    lossy,
    other,
    async reconnect() {
      lossy.link.heal();
      await until(clock, client.waitUntilConnected());
      await pass(clock, 500);
    },
    async children(path) {
      await until(clock, other.sync(path));
      try {
        return (await until(clock, other.getChildren(path))).sort();
      } catch {
        return [];
      }
    },
  };
  try {
    await body(fixture);
  } finally {
    await shutdown(clock, ensemble, [client, other]);
  }
}
