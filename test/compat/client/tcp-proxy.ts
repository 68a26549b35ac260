/**
 * A loopback TCP proxy in front of one server, to cut a client off the network in
 * compatibility tests without touching the client: `partition()` freezes every open
 * connection (bytes stop flowing both ways, as when a cable is pulled) and refuses new
 * ones; `heal()` lets new connections through again. `cutAfterNextRequest()` forwards the
 * client's next bytes to the server and then drops the connection before any reply can
 * come back (a request whose outcome the client cannot know).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** `127.0.0.1:<port>` to put in a connect string. */
  readonly address: string;
  readonly port: number;
  /** The upstream `host:port`. */
  readonly target: string;
  /** Freeze open connections and refuse new ones. */
  partition(): void;
  /** Accept and forward new connections again (frozen ones are closed). */
  heal(): void;
  /** Forward the client's next chunk, then drop that connection before the reply. */
  cutAfterNextRequest(): void;
  /** Close every connection now (both sides see a close). */
  dropAll(): void;
  /** Stop listening and close everything. */
  close(): Promise<void>;
}

/** Start a proxy to `host:port` on a free loopback port. */
export async function startProxy(host: string, port: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  let partitioned = false;
  let cutNext = false;

  const server: Server = createServer((client) => {
    if (partitioned) {
      client.destroy();
      return;
    }
    const upstream = connect({ host, port });
    const pair = { client, upstream, frozen: false };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      if (pair.frozen) return;
      upstream.write(chunk);
      if (cutNext) {
        cutNext = false;
        // Let the bytes reach the server, then cut the client off before any reply.
        upstream.pause();
        client.destroy();
        setTimeout(end, 200);
      }
    });
    upstream.on('data', (chunk) => {
      if (!pair.frozen && !client.destroyed) client.write(chunk);
    });
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', () => {
      if (!pair.frozen) end();
    });
    upstream.on('close', () => {
      if (!pair.frozen) end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const proxyPort = typeof address === 'object' && address !== null ? address.port : 0;

  const closeAll = (): void => {
    for (const pair of pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    pairs.clear();
  };

  return {
    address: `127.0.0.1:${proxyPort}`,
    port: proxyPort,
    target: `${host}:${port}`,
    partition() {
      partitioned = true;
      for (const pair of pairs) {
        pair.frozen = true;
        pair.client.pause();
        pair.upstream.pause();
      }
    },
    heal() {
      partitioned = false;
      closeAll();
    },
    cutAfterNextRequest() {
      cutNext = true;
    },
    dropAll: closeAll,
    async close() {
      closeAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
