/**
 * The client scenario suite against a real Apache ZooKeeper 3.8 (Debian's `zookeeper`
 * package). Run with `npm run test:compat`.
 */
import { startEnsemble, startStandalone, type ApacheZooKeeper } from '../../support/apache-zookeeper.js';
import { clientScenarios, type ScenarioCluster } from './scenarios.js';

function asCluster(zk: ApacheZooKeeper): ScenarioCluster {
  return {
    servers: zk.servers.map((s) => s.address),
    kill: (index) => zk.kill(index),
    start: (index) => zk.start(index),
    close: () => zk.close(),
  };
}

clientScenarios({
  name: 'Apache ZooKeeper 3.8',
  ttl: true,
  standalone: async () => asCluster(await startStandalone({ tickTime: 100 })),
  ensemble: async () => asCluster(await startEnsemble(3, { tickTime: 100 })),
});
