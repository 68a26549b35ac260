/**
 * The client's session lifecycle as an XState machine (`id: 'session'`):
 *
 * ```
 *   connecting ──handshake ok──▶ connected ◀──handshake ok── disconnected
 *       │                          │  ▲                          │   (suspended: the same
 *       │                          │  └──────────────────────────┘    session id/password
 *       │                 channel lost / read timeout ──────────▶     on the next host)
 *       │                          │ close()
 *       │                          ▼
 *       │                       closing ──reply / timeout──▶ closed
 *       └── timeOut <= 0 in any handshake ──▶ expired;  auth rejected ──▶ authFailed
 * ```
 *
 * Timing (Java's `ClientCnxn`): readTimeout = 2/3 of the negotiated session timeout;
 * a ping goes out when nothing was sent for readTimeout/2 (at most 10 s); the connection
 * is dropped when nothing was received for readTimeout; a handshake attempt is given
 * negotiated timeout / number of hosts; `LOST` is raised when a session timeout has
 * passed since the connection dropped.
 *
 * The machine owns only the lifecycle. Per-request work (xids, the pending queue, reply
 * matching, watch dispatch) is plain data in `ClientSession`, reached through the
 * `SessionPort` in the context; per-packet bookkeeping (last send/receive times) is read
 * through the port, so no machine event is paid per request.
 */
import { assign, setup } from 'xstate';
import type { ConnectRequest, ConnectResponse, SessionId } from '../protocol/records.js';
import type { HostAddress } from './connect-string.js';

/** Java caps the ping interval (`MAX_SEND_PING_INTERVAL`). */
export const MAX_PING_INTERVAL = 10_000;

/** The effects and readings the machine needs from the session layer. */
export interface SessionPort {
  /** Current time (the injected clock). */
  now(): number;
  /** Choose the next server; `delay` is how long to wait before dialling it. */
  nextHost(firstAttempt: boolean): { address: HostAddress; delay: number };
  /** Number of servers in the connect string. */
  hostCount(): number;
  /** Open a channel to `address` and send `request`. */
  open(address: HostAddress, request: ConnectRequest): void;
  /** Close the current channel, if any (its handlers go silent). */
  drop(): void;
  /** When the last message was received / sent on the current channel. */
  lastReceivedAt(): number;
  lastSentAt(): number;
  /** The zxid to put in the next ConnectRequest. */
  lastZxidSeen(): number;
  /** Send a ping (xid -2). */
  ping(): void;
  /** A session was established on the current channel. */
  connected(info: { reconnect: boolean; readOnly: boolean }): void;
  /** The connection of an established session dropped. */
  suspended(): void;
  /** No session for a whole session timeout: fail the queued requests. `lost` is true once a session existed. */
  timedOut(lost: boolean): void;
  /** Send closeSession (after everything already queued). */
  sendClose(): void;
  /** The machine reached a final state; `lost` tells whether LOST was already raised. */
  ended(how: 'closed' | 'expired' | 'authFailed', lost: boolean): void;
}

/** What the machine is created with. */
export interface SessionInput {
  port: SessionPort;
  /** The session timeout the application asked for (sent in every ConnectRequest). */
  requestedTimeout: number;
  /** Send the trailing readOnly flag as true: accept read-only servers. */
  canBeReadOnly: boolean;
  /** Resume an existing session instead of creating one. */
  sessionId?: SessionId;
  passwd?: Uint8Array;
}

/** The machine's data. */
export interface SessionContext {
  port: SessionPort;
  requestedTimeout: number;
  canBeReadOnly: boolean;
  sessionId: SessionId;
  passwd: Uint8Array;
  /** 0 until the first handshake. */
  negotiatedTimeout: number;
  readOnly: boolean;
  /** Java's `seenRwServerBefore`: a session only ever connected read-only is not carried to a read-write server. */
  seenRwServer: boolean;
  /** Handshakes completed. */
  connections: number;
  /** Connection attempts started. */
  attempts: number;
  currentHost: HostAddress | undefined;
  attemptDelay: number;
  /** LOST was raised since the connection dropped. */
  lost: boolean;
}

/** Events the session layer sends to the machine. */
export type SessionEvent =
  | { type: 'channel.connected'; response: ConnectResponse }
  | { type: 'channel.closed'; error?: Error }
  | { type: 'auth.failed' }
  | { type: 'close' }
  | { type: 'close.done' };

const ZERO_PASSWD = new Uint8Array(16);

/** The session timeout in force (negotiated once known). */
export function sessionTimeoutOf(context: SessionContext): number {
  return context.negotiatedTimeout > 0 ? context.negotiatedTimeout : context.requestedTimeout;
}

/** readTimeout = 2/3 of the session timeout. */
export function readTimeoutOf(context: SessionContext): number {
  return Math.floor((sessionTimeoutOf(context) * 2) / 3);
}

/** Ping when nothing was sent for readTimeout/2 (capped at 10 s). */
export function pingIntervalOf(context: SessionContext): number {
  return Math.min(Math.floor(readTimeoutOf(context) / 2), MAX_PING_INTERVAL);
}

/** One handshake attempt gets session timeout / number of hosts. */
export function connectTimeoutOf(context: SessionContext): number {
  return Math.max(1, Math.floor(sessionTimeoutOf(context) / context.port.hostCount()));
}

function connectRequestOf(context: SessionContext): ConnectRequest {
  const carry = context.sessionId !== 0n && (context.seenRwServer || !context.readOnly);
  return {
    protocolVersion: 0,
    lastZxidSeen: context.port.lastZxidSeen(),
    timeOut: context.requestedTimeout,
    sessionId: carry ? context.sessionId : 0n,
    passwd: carry ? context.passwd : ZERO_PASSWD,
    readOnly: context.canBeReadOnly,
  };
}

/** The attempt loop shared by `connecting` and `disconnected`: wait, dial, handshake. */
const attemptLoop = {
  initial: 'waiting' as const,
  states: {
    waiting: {
      entry: 'chooseHost' as const,
      after: { attemptDelay: { target: 'handshaking' as const } },
    },
    handshaking: {
      entry: 'openChannel' as const,
      exit: 'noteAttempt' as const,
      after: { connectTimeout: { target: 'waiting' as const, actions: 'dropChannel' as const } },
      on: {
        'channel.closed': { target: 'waiting' as const },
        'channel.connected': [
          { guard: 'handshakeExpired' as const, target: '#session.expired' as const },
          { target: '#session.connected' as const, actions: 'adoptSession' as const },
        ],
      },
    },
  },
};

/** The session machine. Create it with `createActor(sessionMachine, { input, clock })`. */
export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
  },
  actions: {
    /** Pick the next server and how long to wait before dialling it. */
    chooseHost: assign(({ context }) => {
      const { address, delay } = context.port.nextHost(context.attempts === 0);
      return { currentHost: address, attemptDelay: delay };
    }),
    /** Dial the chosen server and send the ConnectRequest. */
    openChannel: ({ context }) => context.port.open(context.currentHost!, connectRequestOf(context)),
    /** Count the attempt (so only the very first one skips the reconnect jitter). */
    noteAttempt: assign({ attempts: ({ context }) => context.attempts + 1 }),
    /** Close the current channel. */
    dropChannel: ({ context }) => context.port.drop(),
    /** Take the session parameters from a successful ConnectResponse. */
    adoptSession: assign(({ context, event }) => {
      if (event.type !== 'channel.connected') return {};
      const { response } = event;
      const readOnly = response.readOnly === true;
      return {
        sessionId: response.sessionId,
        passwd: response.passwd,
        negotiatedTimeout: response.timeOut,
        readOnly,
        seenRwServer: context.seenRwServer || !readOnly,
        connections: context.connections + 1,
        lost: false,
      };
    }),
    /** Announce the connection and resume the request flow. */
    enterConnected: ({ context }) =>
      context.port.connected({
        reconnect: context.connections > 1,
        readOnly: context.readOnly,
      }),
    /** Send a ping if nothing was sent for a ping interval. */
    pingIfIdle: ({ context }) => {
      const { port } = context;
      if (port.now() - port.lastSentAt() >= pingIntervalOf(context)) port.ping();
    },
    /** The connection dropped: fail requests in flight, announce SUSPENDED. */
    enterSuspended: ({ context }) => context.port.suspended(),
    /** A session timeout passed without a session. */
    timeOut: ({ context }) => context.port.timedOut(context.connections > 0),
    markLost: assign({ lost: true }),
    sendClose: ({ context }) => context.port.sendClose(),
    endClosed: ({ context }) => context.port.ended('closed', context.lost),
    endExpired: ({ context }) => context.port.ended('expired', context.lost),
    endAuthFailed: ({ context }) => context.port.ended('authFailed', context.lost),
  },
  guards: {
    /** A handshake answered with timeOut <= 0: the session is gone (§4.3). */
    handshakeExpired: ({ event }) => event.type === 'channel.connected' && event.response.timeOut <= 0,
    /** Nothing received for readTimeout. */
    readTimedOut: ({ context }) => context.port.now() - context.port.lastReceivedAt() >= readTimeoutOf(context),
  },
  delays: {
    attemptDelay: ({ context }) => context.attemptDelay,
    connectTimeout: ({ context }) => connectTimeoutOf(context),
    sessionTimeout: ({ context }) => sessionTimeoutOf(context),
    /** Wake at the earlier of the next ping and the read deadline. */
    heartbeat: ({ context }) => {
      const { port } = context;
      const due = Math.min(port.lastSentAt() + pingIntervalOf(context), port.lastReceivedAt() + readTimeoutOf(context));
      return Math.max(0, due - port.now());
    },
    /** How long close() waits for the closeSession reply. */
    closeTimeout: ({ context }) => readTimeoutOf(context),
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({
    port: input.port,
    requestedTimeout: input.requestedTimeout,
    canBeReadOnly: input.canBeReadOnly,
    sessionId: input.sessionId ?? 0n,
    passwd: input.passwd ?? ZERO_PASSWD,
    negotiatedTimeout: 0,
    readOnly: false,
    seenRwServer: input.sessionId !== undefined && input.sessionId !== 0n,
    connections: 0,
    attempts: 0,
    currentHost: undefined,
    attemptDelay: 0,
    lost: false,
  }),
  initial: 'connecting',
  states: {
    connecting: {
      ...attemptLoop,
      after: { sessionTimeout: { actions: 'timeOut' } },
      on: { close: { target: 'closed' } },
    },
    connected: {
      entry: 'enterConnected',
      initial: 'alive',
      states: {
        alive: {
          after: {
            heartbeat: [
              { guard: 'readTimedOut', target: '#session.disconnected', actions: 'dropChannel' },
              { target: 'alive', reenter: true, actions: 'pingIfIdle' },
            ],
          },
        },
      },
      on: {
        'channel.closed': { target: 'disconnected' },
        'auth.failed': { target: 'authFailed' },
        close: { target: 'closing' },
      },
    },
    disconnected: {
      entry: 'enterSuspended',
      ...attemptLoop,
      after: { sessionTimeout: { actions: ['markLost', 'timeOut'] } },
      on: { close: { target: 'closed' } },
    },
    closing: {
      entry: 'sendClose',
      after: { closeTimeout: { target: 'closed' } },
      on: {
        'close.done': { target: 'closed' },
        'channel.closed': { target: 'closed' },
      },
    },
    closed: { type: 'final', entry: ['dropChannel', 'endClosed'] },
    expired: { type: 'final', entry: ['dropChannel', 'endExpired'] },
    authFailed: { type: 'final', entry: ['dropChannel', 'endAuthFailed'] },
  },
});

/** The machine type. */
export type SessionMachine = typeof sessionMachine;
