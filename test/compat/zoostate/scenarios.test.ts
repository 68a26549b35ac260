/**
 * The client scenario suite (../client/scenarios.ts) against zoostate over TCP: one
 * server and a 3-server ensemble, each server behind its ZooKeeper client port, so
 * zoostate's client meets zoostate's server through the wire protocol only. Run with
 * `npm run test:compat`.
 */
import { clientScenarios, type ScenarioCluster } from '../client/scenarios.js';
import type { CompatTarget } from '../targets.js';
import { zoostateTarget } from './target.js';

function asCluster(target: CompatTarget): ScenarioCluster {
  return {
    servers: target.servers,
    kill: (index) => target.kill(index),
    start: (index) => target.start(index),
    close: () => target.close(),
  };
}

clientScenarios({
  name: 'zoostate over TCP',
  ttl: true,
  standalone: async () => asCluster(await zoostateTarget({ servers: 1, tickTime: 100 })),
  ensemble: async () => asCluster(await zoostateTarget({ servers: 3, tickTime: 100 })),
});
