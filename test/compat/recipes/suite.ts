/**
 * Registers the recipe scenarios with node:test against one service. The same function
 * runs the suite against Apache ZooKeeper (apache-zookeeper.test.ts) and, once it
 * exists, zoostate's embedded ensemble.
 */
import { after, before, describe, test } from 'node:test';
import type { ChannelFactory } from '../../../src/index.js';
import { createHarness, type RecipeHarness } from './harness.js';
import type { Scenario } from './scenarios/locks.js';

/** A running service. */
export interface RecipeService {
  connectString: string;
  /** How clients reach it (default: TCP). */
  channelFactory?: ChannelFactory;
  /** Four-letter words, for server-side watch counts (optional). */
  fourLetterWord?: (word: string) => Promise<string>;
  close(): Promise<void>;
}

/** What the suite runs against. */
export interface RecipeTarget {
  name: string;
  start(): Promise<RecipeService>;
}

/** Register `groups` of scenarios against `target`, one service for all of them. */
export function recipeSuite(target: RecipeTarget, groups: Record<string, Record<string, Scenario>>): void {
  describe(`recipes against ${target.name}`, () => {
    let service: RecipeService;
    before(async () => {
      service = await target.start();
    });
    after(async () => {
      await service?.close();
    });
    for (const [group, scenarios] of Object.entries(groups)) {
      describe(group, () => {
        for (const [name, scenario] of Object.entries(scenarios)) {
          test(name, async () => {
            const h: RecipeHarness = createHarness(service.connectString, service.channelFactory, service.fourLetterWord);
            try {
              await scenario(h);
            } finally {
              await h.close();
            }
          });
        }
      });
    }
  });
}
