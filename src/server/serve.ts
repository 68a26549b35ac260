/**
 * Put ZooKeeper client ports in front of servers: `serveEnsemble` gives every server of
 * an in-process `Ensemble` its own TCP client port (what `zoostate start` runs);
 * `serveServer` does it for one server with its pipeline (what `zoostate server` runs).
 *
 * ```ts
 * const ensemble = await startEnsemble({ servers: 3 });
 * const ports = await serveEnsemble(ensemble, { port: 2181 });
 * console.log(ports.connectString); // 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183
 * ```
 */
import type { ServerId } from '../protocol/peer.js';
import { ClientPort, type ClientPortOptions } from './client-port.js';
import type { ClientService } from './client-service.js';
import type { Ensemble } from './ensemble.js';
import type { QuorumServer } from './quorum-server.js';
import { serverInfoSource, type ServerInfoOptions } from './server-info.js';

/** Options shared by `serveEnsemble` and `serveServer`. */
export interface ServeOptions extends Pick<ClientPortOptions, 'limits' | 'fourLetterWords' | 'log' | 'version'> {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** First client port; server i (0-based, voters then observers) gets port + i. 0 = any free port each. Default 2181. */
  port?: number;
  /** Per-server facts for `conf`/`dirs`/`envi`. */
  info?: (id: ServerId) => ServerInfoOptions;
}

/** The client ports of an ensemble. */
export interface EnsemblePorts {
  /** One port per server, in `ensemble.servers` order. */
  readonly ports: readonly ClientPort[];
  /** `host:port` of each server, in the same order. */
  readonly addresses: readonly string[];
  /** `addresses` joined with commas: a ZooKeeper connect string. */
  readonly connectString: string;
  /** The port of server `id`. */
  port(id: ServerId): ClientPort;
  /** Close every port (the servers keep running). */
  close(): Promise<void>;
}

/** `host:port`, with brackets for IPv6. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Give every server of an in-process `ensemble` its own ZooKeeper client port on
 * `options.host` (default 127.0.0.1): server i (voters, then observers) listens on
 * `options.port + i` (default 2181; 0 = a free port each). Each port fronts that
 * server's `ClientService`, so TCP clients share sessions, watches and statistics with
 * the ensemble's in-process clients. Resolves once every port listens (the servers may
 * still be electing: a port refuses handshakes until its server serves). Closing the
 * ports leaves the servers running.
 *
 * ```ts
 * const ensemble = await startEnsemble({ servers: 3 });
 * const ports = await serveEnsemble(ensemble, { port: 0 });
 * const client = createClient(ports.connectString);
 * ```
 */
export async function serveEnsemble(ensemble: Ensemble, options: ServeOptions = {}): Promise<EnsemblePorts> {
  const host = options.host ?? '127.0.0.1';
  const base = options.port ?? 2181;
  const ports: ClientPort[] = [];
  const addresses = new Map<number, string>();
  try {
    for (const [index, server] of ensemble.servers.entries()) {
      const service = ensemble.clientService(server.id);
      if (service === undefined) throw new Error(`server ${server.id} has no client service`);
      const extra = options.info?.(server.id) ?? {};
      const port = await ClientPort.listen({
        acceptor: service,
        serving: server,
        clock: ensemble.clock,
        host,
        port: base === 0 ? 0 : base + index,
        ...(options.limits !== undefined ? { limits: options.limits } : {}),
        ...(options.fourLetterWords !== undefined ? { fourLetterWords: options.fourLetterWords } : {}),
        ...(options.log !== undefined ? { log: options.log } : {}),
        ...(options.version !== undefined ? { version: options.version } : {}),
        info: serverInfoSource(server, service, { clientAddresses: () => addresses, ...extra }),
      });
      ports.push(port);
      addresses.set(server.id, formatAddress(host, port.address().port));
    }
  } catch (error) {
    await Promise.all(ports.map((p) => p.close()));
    throw error;
  }
  const list = ensemble.servers.map((s) => addresses.get(s.id)!);
  return {
    ports,
    addresses: list,
    connectString: list.join(','),
    port: (id) => {
      const index = ensemble.servers.findIndex((s) => s.id === id);
      if (index < 0) throw new RangeError(`no server ${id}`);
      return ports[index]!;
    },
    close: async () => {
      await Promise.all(ports.map((p) => p.close()));
    },
  };
}

/**
 * Give one server and its pipeline (`new ClientService(server)`) a ZooKeeper client port
 * on `options.host`:`options.port` (defaults 127.0.0.1:2181): what `zoostate server`
 * runs for one member of a multi-process ensemble. Resolves once the port listens.
 *
 * ```ts
 * const server = createQuorumServer({ myid: 1, servers, storage });
 * const service = new ClientService(server);
 * const port = await serveServer(server, service, { host: '0.0.0.0', port: 2181 });
 * await server.startAsync();
 * ```
 */
export function serveServer(server: QuorumServer, service: ClientService, options: ServeOptions = {}): Promise<ClientPort> {
  return ClientPort.listen({
    acceptor: service,
    serving: server,
    clock: server.clock,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 2181,
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
    ...(options.fourLetterWords !== undefined ? { fourLetterWords: options.fourLetterWords } : {}),
    ...(options.log !== undefined ? { log: options.log } : {}),
    ...(options.version !== undefined ? { version: options.version } : {}),
    info: serverInfoSource(server, service, options.info?.(server.id) ?? {}),
  });
}
