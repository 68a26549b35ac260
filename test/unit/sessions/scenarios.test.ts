/**
 * The client scenario suite (test/compat/client/scenarios.ts) — the same scenarios that
 * pass against Apache ZooKeeper 3.8 — run against zoostate: an in-process ensemble (one
 * server, then three) whose servers serve ZooKeeper's wire protocol on loopback ports
 * through the TCP client port. Real time (the scenarios use sockets and timers).
 */
import { clientScenarios, type ScenarioCluster } from '../../compat/client/scenarios.js';
import { startEnsemble, type Ensemble } from '../../../src/server/ensemble.js';
import { ClientPort } from '../../../src/server/client-port.js';

async function listen(ensemble: Ensemble, index: number, port: number): Promise<ClientPort> {
  const server = ensemble.servers[index]!;
  return ClientPort.listen({ acceptor: ensemble.clientService(server.id)!, serving: server, clock: ensemble.clock, host: '127.0.0.1', port });
}

async function whenAllServing(ensemble: Ensemble): Promise<void> {
  while (!ensemble.allServing()) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function zoostate(servers: number): Promise<ScenarioCluster> {
  const ensemble = await startEnsemble({ servers, extendedTypesEnabled: true, session: { containerCheckIntervalMs: 100 } });
  const ports: (ClientPort | null)[] = [];
  for (let i = 0; i < servers; i++) ports.push(await listen(ensemble, i, 0));
  const numbers = ports.map((p) => p!.address().port);
  return {
    servers: numbers.map((n) => `127.0.0.1:${n}`),
    async kill(index) {
      await ensemble.servers[index]!.stopAsync();
      await ports[index]?.close();
      ports[index] = null;
    },
    async start(index) {
      await ensemble.servers[index]!.startAsync();
      ports[index] = await listen(ensemble, index, numbers[index]!);
      await whenAllServing(ensemble);
    },
    async close() {
      await Promise.all(ports.map((p) => p?.close()));
      await ensemble.close();
    },
  };
}

clientScenarios({ name: 'zoostate (in-process ensemble, TCP client port)', standalone: () => zoostate(1), ensemble: () => zoostate(3), ttl: true });
