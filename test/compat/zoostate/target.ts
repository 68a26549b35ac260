/**
 * The zoostate compatibility target (see ../targets.ts): an in-process ensemble (1 or 3
 * voting servers) with a ZooKeeper client port per server on a free 127.0.0.1 port.
 *
 * Settings: tickTime, session timeout bounds, superDigest and dynamic reconfiguration
 * (`reconfig`: ZooKeeper's reconfigEnabled) are honoured; TTL nodes are enabled and
 * containers swept every 100 ms (as the Apache target runs ZooKeeper); four-letter words
 * are all on. Not supported by zoostate: read-only mode (`readOnlyMode`: a server without
 * quorum closes its clients instead).
 *
 * `stop(i)`/`kill(i)` stop server i like a crash (its storage survives in memory, as a
 * restarted process finds its data dir) and close its client port; `start(i)` restarts
 * it on the same client port.
 */
import { startEnsemble } from '../../../src/server/ensemble.js';
import { ClientPort } from '../../../src/server/client-port.js';
import { serveEnsemble, serveServer } from '../../../src/server/serve.js';
import type { CompatTarget, TargetFactory } from '../targets.js';

function whenServing(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`zoostate target: ${what} within ${timeoutMs} ms`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

/** The zoostate target factory. */
export const zoostateTarget: TargetFactory = async (settings) => {
  const tickTime = settings.tickTime ?? 100;
  const session = {
    minSessionTimeout: settings.minSessionTimeout ?? 2 * tickTime,
    maxSessionTimeout: settings.maxSessionTimeout ?? 60_000,
    containerCheckIntervalMs: 100,
    ...(settings.superDigest !== undefined ? { superDigest: settings.superDigest } : {}),
  };
  const ensemble = await startEnsemble({
    servers: settings.servers,
    tickTime,
    extendedTypesEnabled: true,
    session,
    ...(settings.reconfig === true ? { zab: { reconfigEnabled: true } } : {}),
  });
  const served = await serveEnsemble(ensemble, { port: 0, limits: { maxClientCnxns: 0 } });
  const ports: (ClientPort | undefined)[] = [...served.ports];
  const numbers = served.ports.map((p) => p.address().port);
  const allServing = (): boolean => ensemble.servers.every((s) => !s.running || s.serving);
  await whenServing(allServing, 60_000, 'every server serving');
  let closed = false;

  const stop = async (index: number): Promise<void> => {
    const server = ensemble.servers[index];
    if (server === undefined) throw new RangeError(`no server ${index}`);
    const port = ports[index];
    ports[index] = undefined;
    await Promise.all([port?.close(), server.stopAsync()]);
  };

  const target: CompatTarget = {
    name: `zoostate (${settings.servers === 1 ? 'one server' : `${settings.servers} servers`})`,
    servers: served.addresses,
    connectString: served.connectString,
    isRunning: (index) => ensemble.servers[index]?.running ?? false,
    stop,
    kill: stop,
    async start(index) {
      const server = ensemble.servers[index];
      if (server === undefined) throw new RangeError(`no server ${index}`);
      if (!server.running) await server.startAsync();
      if (ports[index] === undefined) {
        const service = ensemble.clientService(server.id)!;
        for (let attempt = 0; ; attempt++) {
          try {
            ports[index] = await serveServer(server, service, { port: numbers[index]!, limits: { maxClientCnxns: 0 } });
            break;
          } catch (error) {
            if (attempt >= 50) throw error;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }
      await whenServing(allServing, 60_000, 'every running server serving');
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(ports.map((p) => p?.close()));
      await ensemble.close();
    },
  };
  return target;
};
