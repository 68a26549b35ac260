/**
 * Checkers of the recipe workloads, over the `RecipeLedger` (recipe-workload.ts):
 *
 * | checker             | what it asserts |
 * |---------------------|-----------------|
 * | `mutual-exclusion`  | per lock, no two leases overlap: a lease runs from acquire-ok (or a reinstatement) until release is invoked, the holder learns SUSPENDED / LOST (its signal aborts) or its process crashes; per election, no two terms overlap |
 * | `fencing`           | per lock and per election, each new holder's token is larger than every earlier one (a reinstated term keeps its holder's token) |
 * | `recipe-liveness`   | every acquire of a live process ended, acquired or told why not; after healing, a connected election elects a leader |
 */
import type { CheckFailure } from './checkers.js';
import type { RecipeEvent } from './recipe-workload.js';

/** Judge a ledger; `pending` lists acquire attempts still unsettled of processes that are alive. */
export function checkRecipes(events: readonly RecipeEvent[], pending: readonly { attempt: number; who: string }[]): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail = (checker: CheckFailure['checker'], message: string): void => {
    if (failures.filter((f) => f.checker === checker).length < 3) failures.push({ checker, message });
  };
  const holders = new Map<string, { who: string; seq: number; time: number; token: number }>();
  const tokens = new Map<string, { max: number; who: string }>();
  for (const e of events) {
    const key = `${e.recipe} ${e.resource}`;
    if (e.kind === 'start') {
      const other = holders.get(key);
      if (other !== undefined && other.who !== e.who) {
        fail(
          'mutual-exclusion',
          `${key}: ${e.who} started holding (token ${e.token}) at ${e.time} ms while ${other.who} held it since ${other.time} ms (token ${other.token}) and had not released`,
        );
      }
      holders.set(key, { who: e.who, seq: e.seq, time: e.time, token: e.token ?? -1 });
      const seen = tokens.get(key);
      const token = e.token ?? -1;
      if (seen !== undefined && !(token > seen.max || (token === seen.max && seen.who === e.who))) {
        fail('fencing', `${key}: ${e.who} holds with token ${token} at ${e.time} ms after ${seen.who} held with token ${seen.max}`);
      }
      if (seen === undefined || token >= seen.max) tokens.set(key, { max: token, who: e.who });
    } else if (e.kind === 'end') {
      const h = holders.get(key);
      if (h !== undefined && h.who === e.who) holders.delete(key);
    }
  }
  for (const p of pending) fail('recipe-liveness', `acquire #${p.attempt} of ${p.who} never ended (neither acquired nor told why not)`);
  return failures;
}
