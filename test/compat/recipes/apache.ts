/**
 * The recipe suites' target: a standalone Apache ZooKeeper 3.8 (Debian's `zookeeper`)
 * started on a free loopback port by test/support/apache-zookeeper.ts, or the server at
 * `ZOOSTATE_RECIPES_CONNECT` when that is set (to run the suites against a service that
 * is already up, e.g. `npm start`'s zoostate ensemble).
 */
import { startStandalone } from '../../support/apache-zookeeper.js';
import type { RecipeTarget } from './suite.js';

export const apacheTarget: RecipeTarget = {
  name: 'Apache ZooKeeper 3.8',
  async start() {
    const external = process.env['ZOOSTATE_RECIPES_CONNECT'];
    if (external) {
      // A shared server: other users' watches would show in `wchs`, so only client-side
      // watch tables are checked.
      return { connectString: external, close: async () => {} };
    }
    const zk = await startStandalone({ tickTime: 100 });
    return { connectString: zk.connectString, fourLetterWord: (word) => zk.fourLetterWord(0, word), close: () => zk.close() };
  },
};
