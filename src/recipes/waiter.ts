/**
 * A one-shot wait as a participant (barrier waiters, queue consumers, ...): the wait is
 * a `waiting` participant whose timeout is the machine's named delay, so the inspector
 * shows every blocked caller, and a timeout or abort ends it in `left`.
 */
import { WaitTimeoutError } from './errors.js';
import { Participant } from './participant.js';
import { bindConnection, type RecipeClient, type RecipeEnv } from './support.js';
import { WaitScope, Wakeup, type WaitOptions } from './wait.js';

/**
 * Run `body` as the wait of a fresh participant of `recipe`. `body` resolves when the
 * awaited condition holds; the participant then passes through `holding` and leaves.
 * A timeout rejects with `WaitTimeoutError`, an abort with the signal's reason.
 */
export async function participantWait<T>(
  client: RecipeClient,
  env: RecipeEnv,
  recipe: string,
  name: string,
  options: WaitOptions,
  body: (participant: Participant, scope: WaitScope, wake: Wakeup) => Promise<T>,
): Promise<T> {
  const participant = new Participant({ recipe, name, clock: env.clock, inspect: env.inspect });
  const scope = new WaitScope(env.clock, { signal: options.signal }, `${recipe} wait`);
  const onTimeout = (error: WaitTimeoutError): void => scope.abort(error);
  participant.on('timedOut', onTimeout);
  // Nothing of the waiter's own lives in the tree: a reconnect needs no verification.
  const unbind = bindConnection(client, participant, async () => true);
  // Woken by every state change (reconnects, loss), besides the body's own watches.
  const wake = new Wakeup();
  const onState = (): void => wake.fire();
  participant.on('state', onState);
  participant.send({ type: 'WAIT', timeout: options.timeout });
  try {
    const result = await body(participant, scope, wake);
    participant.send({ type: 'ACQUIRED' });
    return result;
  } catch (error) {
    if (participant.status.timedOut && !(error instanceof WaitTimeoutError)) throw new WaitTimeoutError(options.timeout ?? 0, `${recipe} wait`);
    throw error;
  } finally {
    scope.dispose();
    participant.off('timedOut', onTimeout);
    participant.off('state', onState);
    unbind();
    participant.send({ type: 'LEAVE' });
    participant.send({ type: 'LEFT' });
    participant.stop();
  }
}
