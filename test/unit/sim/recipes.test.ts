/**
 * Recipes under the simulator: lock contenders (up to 20), leader-latch and leader-selector candidates
 * under server faults, session expiries and client crashes. Mutual exclusion (honouring
 * SUSPENDED), increasing fencing tokens and waiter liveness hold for the shipped
 * recipes; a lock that trusts its predecessor's deletion is caught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecipes } from '../../../src/sim/recipe-checkers.js';
import type { RecipeEvent } from '../../../src/sim/recipe-workload.js';
import { runSeed, type SeedResult } from '../../../src/sim/simulator.js';
import { predecessorTrustingLock } from './broken-variants.js';

function failures(result: SeedResult): string {
  return result.failures.map((f) => `${f.checker}: ${f.message}`).join('; ');
}

test('recipe workload: seeds 1..10 pass (locks and elections under server faults, expiries and client crashes)', async () => {
  const failed: string[] = [];
  let leases = 0;
  let terms = 0;
  let suspended = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const result = await runSeed(seed, { workload: 'recipes' });
    leases += result.stats.sessions.leases;
    terms += result.stats.sessions.terms;
    suspended += result.recipeEvents.filter((e) => e.kind === 'end' && /suspended|lost|expired|crashed/.test(e.why ?? '')).length;
    if (!result.ok) failed.push(`seed ${seed}: ${failures(result)} (replay: npm run sim -- --seed ${seed} --workload recipes --trace)`);
  }
  assert.deepEqual(failed, []);
  assert.ok(leases > 100 && terms > 10, `${leases} leases, ${terms} leader terms`);
  assert.ok(suspended > 5, `only ${suspended} roles ended by a fault`);
});

test('recipe workload: 20 contenders on one lock with timeouts keep mutual exclusion and get answers', async () => {
  const failed: string[] = [];
  let leases = 0;
  let timeouts = 0;
  for (const seed of [3, 4]) {
    const result = await runSeed(seed, { workload: 'recipes', recipes: { contenders: 20, lockClients: 8, locks: 1, timeoutChance: 0.3, candidates: 0, selectors: 0 } });
    leases += result.stats.sessions.leases;
    timeouts += result.recipeEvents.filter((e) => e.kind === 'failed' && /Timeout/.test(e.why ?? '')).length;
    if (!result.ok) failed.push(`seed ${seed}: ${failures(result)}`);
  }
  assert.deepEqual(failed, []);
  assert.ok(leases > 40 && timeouts > 5, `${leases} leases, ${timeouts} timeouts`);
});

test('selector candidates lead in turn, relinquish and requeue: terms never overlap, tokens increase', async () => {
  const failed: string[] = [];
  let terms = 0;
  const leaders = new Set<string>();
  let faulted = 0;
  for (const seed of [1, 2, 3]) {
    const result = await runSeed(seed, { workload: 'recipes', recipes: { contenders: 0, candidates: 0, selectors: 3 } });
    const selection = result.recipeEvents.filter((e) => e.resource === '/selection');
    terms += selection.filter((e) => e.kind === 'start').length;
    for (const e of selection) if (e.kind === 'start') leaders.add(`${seed} ${e.who}`);
    faulted += selection.filter((e) => e.kind === 'end' && /suspended|lost|expired|crashed/.test(e.why ?? '')).length;
    if (!result.ok) failed.push(`seed ${seed}: ${failures(result)}`);
  }
  assert.deepEqual(failed, []);
  assert.ok(terms > 30 && leaders.size > 6, `${terms} terms by ${leaders.size} leaders`);
  assert.ok(faulted > 0, 'no term was ended by a fault');
});

test('recipe workload: the same seed twice gives the identical trace', async () => {
  const a = await runSeed(2, { workload: 'recipes', trace: true });
  const b = await runSeed(2, { workload: 'recipes', trace: true });
  assert.ok(a.recipeEvents.length > 50, `only ${a.recipeEvents.length} recipe events`);
  assert.equal(a.traceDigest, b.traceDigest);
  assert.deepEqual(a.recipeEvents, b.recipeEvents);
});

test('a lock that trusts its predecessor’s deletion (no second look) is caught by mutual-exclusion within 3 seeds', async () => {
  let caught: SeedResult | undefined;
  for (let seed = 1; seed <= 3 && caught === undefined; seed++) {
    const result = await runSeed(seed, {
      workload: 'recipes',
      linearizability: false,
      recipes: { contenders: 12, lockClients: 6, locks: 1, timeoutChance: 0.3, candidates: 0 },
      variant: { lockFactory: predecessorTrustingLock },
    });
    if (result.failures.some((f) => f.checker === 'mutual-exclusion')) caught = result;
  }
  assert.ok(caught, 'the predecessor-trusting lock survived 3 seeds');
  // The same seed with the shipped lock passes: the variant, not the seed, is at fault.
  const honest = await runSeed(caught.seed, { workload: 'recipes', linearizability: false, recipes: { contenders: 12, lockClients: 6, locks: 1, timeoutChance: 0.3, candidates: 0 } });
  assert.equal(honest.ok, true, failures(honest));
});

/** A ledger from rows [who, kind, token?, why?]. */
function ledger(...rows: [who: string, kind: RecipeEvent['kind'], token?: number, why?: string][]): RecipeEvent[] {
  return rows.map(([who, kind, token, why], seq) => ({
    seq,
    time: seq * 10,
    recipe: 'lock',
    resource: '/l',
    who,
    kind,
    ...(token !== undefined ? { token } : {}),
    ...(why !== undefined ? { why } : {}),
  }));
}

test('recipe checkers: leases that end on release, SUSPENDED or a crash before the next starts pass', () => {
  const events = ledger(
    ['a', 'start', 10],
    ['a', 'end', undefined, 'release'],
    ['b', 'start', 12],
    ['b', 'end', undefined, 'suspended'],
    ['c', 'start', 15],
    ['c', 'end', undefined, 'crashed'],
    ['b', 'start', 20],
    ['b', 'end', undefined, 'suspended'],
    ['b', 'start', 20], // reinstated: same holder, same token
    ['b', 'end', undefined, 'done'],
  );
  assert.deepEqual(checkRecipes(events, []), []);
});

test('recipe checkers: overlapping leases, a token that goes back and an unanswered waiter are caught', () => {
  const overlap = checkRecipes(ledger(['a', 'start', 10], ['b', 'start', 12]), []);
  assert.deepEqual(
    overlap.map((f) => f.checker),
    ['mutual-exclusion'],
  );
  assert.match(overlap[0]!.message, /b started holding \(token 12\) at 10 ms while a held it since 0 ms/);
  const backwards = checkRecipes(ledger(['a', 'start', 10], ['a', 'end', undefined, 'release'], ['b', 'start', 9]), []);
  assert.deepEqual(
    backwards.map((f) => f.checker),
    ['fencing'],
  );
  const stuck = checkRecipes([], [{ attempt: 7, who: 'p2.t1' }]);
  assert.match(stuck[0]!.message, /acquire #7 of p2.t1 never ended/);
});
