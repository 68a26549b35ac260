/**
 * The recipe suites' target for zoostate itself: an embedded 3-server ensemble in this
 * process, clients connected in-process (no sockets). The same scenarios as against
 * Apache ZooKeeper (apache.ts).
 */
import { InProcessLink, startEnsemble } from '../../../src/index.js';
import type { RecipeTarget } from './suite.js';

export const zoostateTarget: RecipeTarget = {
  name: 'zoostate (embedded 3-server ensemble, in-process clients)',
  async start() {
    const ensemble = await startEnsemble({ servers: 3, session: {} });
    return {
      connectString: ensemble.connectString,
      channelFactory: new InProcessLink(ensemble).factory,
      close: () => ensemble.close(),
    };
  },
};
