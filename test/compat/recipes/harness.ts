/**
 * What the recipe scenarios run on: clients of one ZooKeeper service (Apache ZooKeeper
 * now, zoostate's embedded ensemble later), each connected through a channel wrapper
 * that can cut it off the network and counts the watch notifications it receives.
 *
 * Session expiry is produced the way a partition produces it, in the order that makes
 * recipe guarantees meaningful: first the client is cut off (it sees SUSPENDED at
 * once, as a client whose server went silent would after its read timeout), then the
 * session is closed from a second connection with the same id and password (what the
 * server's expiry would do after the session timeout), then the network heals and the
 * client learns its session EXPIRED.
 */
import {
  createClient,
  wireChannelFactory,
  type ChannelFactory,
  type ChannelHandlers,
  type ClientChannel,
  type ClientOptions,
  type ConnectionState,
  type ZooKeeperClient,
} from '../../../src/index.js';

/** Clients of one service, with network control. */
export interface RecipeHarness {
  /** The service's connect string. */
  readonly connectString: string;
  /** A new connected client (closed by `close()`). */
  client(options?: ClientOptions): Promise<ZooKeeperClient>;
  /** Cut `client` off: its connection drops now and reconnects fail until the returned heal(). */
  partition(client: ZooKeeperClient): () => void;
  /** Expire `client`'s session (partition, close the session elsewhere, heal); resolves once it saw EXPIRED. */
  expire(client: ZooKeeperClient): Promise<void>;
  /** Watch notifications `client` has received so far (on the wire). */
  notifications(client: ZooKeeperClient): number;
  /** A fresh path for one scenario. */
  path(name: string): string;
  /** Watches the server holds for all connections (`wchs`), if the target can tell. */
  serverWatches(): Promise<number | undefined>;
  /** Close every client. */
  close(): Promise<void>;
}

interface Link {
  cut: boolean;
  notifications: number;
  open: Set<{ inner: ClientChannel; handlers: ChannelHandlers; dead: boolean }>;
}

/** Wrap `base` so that the link can be cut and notifications counted. */
function linkFactory(base: ChannelFactory, link: Link): ChannelFactory {
  return (address, handlers) => {
    if (link.cut) {
      let closed = false;
      setTimeout(() => {
        if (!closed) handlers.closed(new Error('partitioned'));
      }, 5);
      return {
        sendConnect() {},
        send() {},
        close() {
          closed = true;
        },
      };
    }
    const entry = { inner: undefined as unknown as ClientChannel, handlers, dead: false };
    const wrapped: ChannelHandlers = {
      connectResponse: (response) => {
        if (!entry.dead) handlers.connectResponse(response);
      },
      reply: (header, response) => {
        if (!entry.dead) handlers.reply(header, response);
      },
      notification: (event) => {
        if (entry.dead) return;
        link.notifications++;
        handlers.notification(event);
      },
      closed: (error) => {
        if (entry.dead) return;
        entry.dead = true;
        link.open.delete(entry);
        handlers.closed(error);
      },
    };
    entry.inner = base(address, wrapped);
    link.open.add(entry);
    return {
      sendConnect: (request) => entry.inner.sendConnect(request),
      send: (xid, request) => {
        if (!entry.dead) entry.inner.send(xid, request);
      },
      close: () => {
        entry.dead = true;
        link.open.delete(entry);
        entry.inner.close();
      },
    };
  };
}

/** Resolve at `client`'s next `state` event (rejects after `timeoutMs`). */
export function nextState(client: ZooKeeperClient, state: ConnectionState, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(state, onState);
      reject(new Error(`no ${state} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onState = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.once(state, onState);
  });
}

let harnessCount = 0;

/**
 * A harness over the service at `connectString`; `base` opens the real channels
 * (default: TCP with the ZooKeeper wire protocol).
 */
export function createHarness(
  connectString: string,
  base: ChannelFactory = wireChannelFactory(),
  fourLetterWord?: (word: string) => Promise<string>,
): RecipeHarness {
  const links = new Map<ZooKeeperClient, Link>();
  const prefix = `/recipes-${process.pid}-${++harnessCount}`;
  let paths = 0;

  const linkOf = (client: ZooKeeperClient): Link => {
    const link = links.get(client);
    if (link === undefined) throw new Error('not a harness client');
    return link;
  };

  const partition = (client: ZooKeeperClient): (() => void) => {
    const link = linkOf(client);
    link.cut = true;
    for (const entry of [...link.open]) {
      entry.dead = true;
      link.open.delete(entry);
      entry.inner.close();
      entry.handlers.closed(new Error('partitioned'));
    }
    return () => {
      link.cut = false;
    };
  };

  const harness: RecipeHarness = {
    connectString,
    async client(options: ClientOptions = {}) {
      const link: Link = { cut: false, notifications: 0, open: new Set() };
      const client = createClient(connectString, {
        sessionTimeout: 4000,
        spinDelay: 20,
        reconnectDelay: 20,
        ...options,
        channelFactory: linkFactory(options.channelFactory ?? base, link),
      });
      client.on('error', () => {}); // a test's watcher that throws must not crash the run
      links.set(client, link);
      await client.waitUntilConnected();
      return client;
    },
    partition,
    async expire(client) {
      if (client.state === 'EXPIRED') return;
      let sawExpired = false;
      const onExpired = (): void => {
        sawExpired = true;
      };
      client.once('EXPIRED', onExpired);
      const heal = partition(client);
      const killer = createClient(connectString, {
        sessionId: client.sessionId,
        sessionPassword: client.sessionPassword,
        sessionTimeout: client.negotiatedTimeout,
        channelFactory: base,
      });
      killer.on('error', () => {});
      try {
        await killer.waitUntilConnected();
      } catch {
        // Already expired (someone else killed it first): nothing to close.
      } finally {
        await killer.close();
      }
      const expired = sawExpired || (client.state as string) === 'EXPIRED' ? undefined : nextState(client, 'EXPIRED');
      client.off('EXPIRED', onExpired);
      heal();
      await expired;
    },
    notifications: (client) => linkOf(client).notifications,
    async serverWatches() {
      if (fourLetterWord === undefined) return undefined;
      const match = /Total watches:\s*(\d+)/.exec(await fourLetterWord('wchs'));
      return match ? Number(match[1]) : undefined;
    },
    path: (name) => `${prefix}/${name}-${++paths}`,
    async close() {
      await Promise.all([...links.keys()].map((c) => c.close().catch(() => undefined)));
      links.clear();
    },
  };
  return harness;
}
