/**
 * Test harness for election scenarios: several election actors on one `InProcessNetwork`
 * over a `VirtualClock`. Each simulated server runs the election actor while LOOKING and,
 * once decided, answers notifications with `voteReply`, as the peer machine does.
 */
import { createActor, type Actor, type InspectionEvent } from 'xstate';
import type { NotificationMessage, PeerMessage, ServerId } from '../../../src/protocol/peer.js';
import { seededRandom } from '../../../src/runtime/random.js';
import { VirtualClock } from '../../../src/sim/virtual-clock.js';
import { InProcessNetwork } from '../../../src/transport/inproc.js';
import type { Transport } from '../../../src/transport/types.js';
import {
  electionMachine,
  establishedVote,
  voteReply,
  type ElectionResult,
  type ElectionTiming,
} from '../../../src/machines/election.js';

/** One server of a scenario. */
export interface ServerSpec {
  id: ServerId;
  lastZxid?: number;
  currentEpoch?: number;
  /** The round of its previous election (default 0). */
  electionEpoch?: number;
  observer?: boolean;
}

/** A simulated server: transport endpoint, election actor, decision. */
export class SimServer {
  transport: Transport | undefined;
  actor: Actor<typeof electionMachine> | undefined;
  result: ElectionResult | undefined;
  decidedAt: number | undefined;
  /** Notifications this server handed to its transport. */
  sent = 0;
  /** Snapshot values of the actor, consecutive duplicates removed (when inspected). */
  readonly states: string[] = [];

  constructor(
    readonly spec: ServerSpec,
    private readonly cluster: ElectionCluster,
  ) {}

  get id(): ServerId {
    return this.spec.id;
  }

  /** Join the network (if not yet) and start an election. */
  start(options: { inspect?: boolean } = {}): void {
    const { cluster, spec } = this;
    if (this.transport === undefined) {
      const transport = cluster.network.endpoint(spec.id);
      this.transport = transport;
      transport.on('message', (from, messages) => this.onMessages(from, messages));
      transport.on('connected', (peer) => {
        if (this.actor?.getSnapshot().status === 'active') this.actor.send({ type: 'peerConnected', peer });
      });
    }
    this.result = undefined;
    const inspect = options.inspect
      ? (event: InspectionEvent): void => {
          if (event.type !== '@xstate.snapshot' || event.actorRef !== this.actor) return;
          const value = String((event.snapshot as { value?: unknown }).value);
          if (this.states[this.states.length - 1] !== value) this.states.push(value);
        }
      : undefined;
    const actor = createActor(electionMachine, {
      clock: cluster.clock,
      ...(inspect ? { inspect } : {}),
      input: {
        self: spec.id,
        voters: cluster.voters,
        observers: cluster.observers,
        lastZxid: spec.lastZxid ?? 0,
        currentEpoch: spec.currentEpoch ?? 0,
        electionEpoch: spec.electionEpoch ?? 0,
        send: (to, message) => this.send(to, message),
        timing: cluster.timing,
      },
    });
    this.actor = actor;
    actor.subscribe({
      complete: () => {
        this.result = actor.getSnapshot().output;
        this.decidedAt = cluster.clock.now();
      },
    });
    actor.start();
  }

  /** Stop the election actor (e.g. at the end of a test). */
  stop(): void {
    this.actor?.stop();
  }

  private send(to: ServerId, message: NotificationMessage): void {
    this.sent++;
    this.cluster.log.push({ from: this.id, to, message });
    this.transport!.send(to, [message]);
  }

  private onMessages(from: ServerId, messages: PeerMessage[]): void {
    for (const message of messages) {
      if (message.type !== 'notification') continue;
      const actor = this.actor;
      if (actor && actor.getSnapshot().status === 'active') {
        actor.send({ type: 'notification', from, message });
      } else if (this.result) {
        const reply = voteReply(establishedVote(this.result), message);
        if (reply) this.send(from, reply);
      }
    }
  }
}

/** A set of servers on one virtual network. */
export class ElectionCluster {
  readonly clock = new VirtualClock();
  readonly network: InProcessNetwork;
  readonly servers = new Map<ServerId, SimServer>();
  readonly voters: ServerId[];
  readonly observers: ServerId[];
  /** Every notification sent, in order. */
  readonly log: { from: ServerId; to: ServerId; message: NotificationMessage }[] = [];

  constructor(
    specs: ServerSpec[],
    readonly options: { seed?: number; timing?: Partial<ElectionTiming> } = {},
  ) {
    this.network = new InProcessNetwork({ clock: this.clock, random: seededRandom(options.seed ?? 1) });
    this.voters = specs.filter((s) => !s.observer).map((s) => s.id);
    this.observers = specs.filter((s) => s.observer).map((s) => s.id);
    for (const spec of specs) this.servers.set(spec.id, new SimServer(spec, this));
  }

  get timing(): Partial<ElectionTiming> | undefined {
    return this.options.timing;
  }

  server(id: ServerId): SimServer {
    const server = this.servers.get(id);
    if (!server) throw new Error(`no server ${id}`);
    return server;
  }

  /** Start every server now. */
  startAll(options: { inspect?: boolean } = {}): void {
    for (const server of this.servers.values()) server.start(options);
  }

  /** Run the clock until every listed server decided (or `limitMs` of virtual time passed). */
  runUntilDecided(ids: Iterable<ServerId> = this.servers.keys(), limitMs = 60_000): boolean {
    const list = [...ids].map((id) => this.server(id));
    const deadline = this.clock.now() + limitMs;
    while (!list.every((s) => s.result !== undefined)) {
      const next = this.clock.nextDeadline();
      if (next === undefined || next > deadline) return false;
      this.clock.step();
    }
    return true;
  }

  /** Decisions by server id (undecided servers left out). */
  results(): Map<ServerId, ElectionResult> {
    const out = new Map<ServerId, ElectionResult>();
    for (const [id, server] of this.servers) if (server.result) out.set(id, server.result);
    return out;
  }

  /** Stop every actor and close the network. */
  async close(): Promise<void> {
    for (const server of this.servers.values()) server.stop();
    await this.network.close();
    this.clock.flush();
  }
}

/** Compare two (peerEpoch, zxid, id) triples: positive if `a` is the better candidate. */
export function compareCandidates(a: ServerSpec, b: ServerSpec): number {
  return (
    (a.currentEpoch ?? 0) - (b.currentEpoch ?? 0) || (a.lastZxid ?? 0) - (b.lastZxid ?? 0) || a.id - b.id
  );
}

/** The best voter of `specs` by the election's total order. */
export function bestVoter(specs: ServerSpec[]): ServerId {
  const voters = specs.filter((s) => !s.observer);
  return voters.reduce((best, s) => (compareCandidates(s, best) > 0 ? s : best)).id;
}
