/**
 * The zoostate client API: one class over any `ClientChannel` (the ZooKeeper wire
 * protocol by default; an in-process channel for an embedded server).
 *
 * Every method returns a Promise, accepts `{ signal }` (an abort rejects the wait with
 * an `AbortError` and leaves the session intact) and rejects with a typed
 * `ZooKeeperError` (`code`, `path`). Paths are relative to the connect string's chroot.
 *
 * ```ts
 * const client = createClient('127.0.0.1:2181,127.0.0.1:2182/app', { sessionTimeout: 10_000 });
 * client.on('state', (state) => console.log(state));          // CONNECTED, SUSPENDED, ...
 * await client.create('/jobs', 'x');
 * const { data, stat } = await client.getData('/jobs', { watch: (e) => console.log(e.type) });
 * for await (const event of client.watch('/jobs', { recursive: true, signal })) { ... }
 * await client.close();
 * ```
 */
import { EventEmitter } from 'eventemitter3';
import type { InspectionEvent, Observer } from 'xstate';
import { AddWatchMode, CreateMode, OpCode, WatcherType, isSequentialMode } from '../protocol/constants.js';
import { ErrorCode, NoWatcherError, ZooKeeperError } from '../protocol/errors.js';
import type {
  ACL,
  Create2Response,
  CreateResponse,
  GetACLResponse,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataResponse,
  GetEphemeralsResponse,
  MultiResponse,
  SessionId,
  Stat,
  StatResponse,
  WhoAmIResponse,
} from '../protocol/records.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { systemRandom, type Random } from '../runtime/random.js';
import { OPEN_ACL_UNSAFE } from './acl.js';
import type { ChannelFactory, ClientResponse } from './channel.js';
import { formatHost, parseConnectString } from './connect-string.js';
import { fromWireResults, toBytes, toWireOps, createOpcode, Transaction, type MultiOp, type MultiResult } from './multi.js';
import { validatePath } from './paths.js';
import { createProtected } from './protected.js';
import { ClientSession } from './session.js';
import type {
  ACLResult,
  CallOptions,
  ChildrenResult,
  ClientInfo,
  ConnectionState,
  CreateResult,
  Data,
  DataResult,
  SessionState,
  Watcher,
} from './types.js';
import { createWatchStream, type WatchStream } from './watch-stream.js';
import { wireChannelFactory } from './wire-channel.js';

/** Options of `createClient`. */
export interface ClientOptions {
  /** Requested session timeout in ms (the server clamps it); default 30 000. */
  sessionTimeout?: number;
  /** Accept read-only servers (sends the handshake's readOnly flag); default false. */
  canBeReadOnly?: boolean;
  /** Time source; default the system clock. Pass a VirtualClock to simulate. */
  clock?: Clock;
  /** Randomness (host shuffling, reconnect jitter, protection GUIDs); default OS-seeded. */
  random?: Random;
  /** How to reach a server; default the ZooKeeper wire protocol over TCP. */
  channelFactory?: ChannelFactory;
  /** Back-off after every host failed once, ms; default 1000 (Java's spin delay). */
  spinDelay?: number;
  /** Upper bound of the random wait before each connection attempt after the first, ms; default 1000 (as Java). */
  reconnectDelay?: number;
  /** Resume an existing session (with its password) instead of creating one. */
  sessionId?: SessionId;
  sessionPassword?: Uint8Array;
  /** Auth packets to send on every connection, before anything else. */
  authInfo?: { scheme: string; auth: string | Uint8Array }[];
  /** XState inspection of the session machine. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** Options of `create`. */
export interface CreateOptions extends CallOptions {
  /** Default `CreateMode.PERSISTENT`. */
  mode?: CreateMode;
  /** Default `OPEN_ACL_UNSAFE`. */
  acl?: readonly ACL[];
  /** Milliseconds, for the TTL modes. */
  ttl?: number;
  /** Return `{ path, stat }` (uses create2 for the plain modes). */
  stat?: boolean;
}

/** Options of the watching reads. */
export interface WatchOptions extends CallOptions {
  /** A one-shot watcher, registered if the read succeeds (`exists`: also on NoNode). */
  watch?: Watcher;
}

/** Options of `getChildren`. */
export interface GetChildrenOptions extends WatchOptions {
  /** Also return the parent's Stat (uses getChildren2). */
  stat?: boolean;
}

/** Options of the versioned writes. */
export interface VersionOptions extends CallOptions {
  /** Expected version; -1 (default) matches any. */
  version?: number;
}

/** Options of `removeWatches`. */
export interface RemoveWatchesOptions extends CallOptions {
  /** Remove only this watcher (default: every watcher of the type on the path). */
  watcher?: Watcher;
  /** Remove locally even if the server cannot be told (disconnected, or it answers an error). */
  local?: boolean;
}

/** Options of `watch`. */
export interface WatchStreamOptions extends CallOptions {
  /** Also see every change below the path (PERSISTENT_RECURSIVE); default false (PERSISTENT). */
  recursive?: boolean;
}

/** Options of `createProtectedSequential`. */
export interface ProtectedCreateOptions extends CallOptions {
  /** Default `CreateMode.EPHEMERAL_SEQUENTIAL` (non-sequential modes are protected too). */
  mode?: CreateMode;
  /** Default `OPEN_ACL_UNSAFE`. */
  acl?: readonly ACL[];
  /** Milliseconds, for the TTL modes. */
  ttl?: number;
  /**
   * Create missing ancestors: `'containers'` as Curator's `creatingParentContainersIfNeeded`
   * (the server deletes them once empty), `'persistent'` as `creatingParentsIfNeeded`.
   * Default: none (a missing parent rejects with NoNode).
   */
  createParents?: 'containers' | 'persistent';
  /** Resolve to `{ path, stat }` instead of the path. */
  stat?: boolean;
  /**
   * Give up after this many ms on the client's clock (rejects with OperationTimeoutError).
   * Without it (and without `signal`) retries go on as long as the session lives.
   */
  timeout?: number;
  /** The GUID of the name (a UUID); default one drawn from the client's `random`. */
  protectionId?: string;
}

/** The client's events: `state` for every change, and one event per state name. */
export type ClientEvents = {
  state: (state: ConnectionState) => void;
  /** A watcher or listener threw (without a listener here the error is rethrown asynchronously). */
  error: (error: unknown) => void;
} & { [S in ConnectionState]: () => void };

/** Create a client; it starts connecting at once. */
export function createClient(connectString: string, options: ClientOptions = {}): ZooKeeperClient {
  return new ZooKeeperClient(connectString, options);
}

/** A ZooKeeper client session; see the file header. */
export class ZooKeeperClient extends EventEmitter<ClientEvents> {
  /** The session layer (state machine, request queue, watch table). */
  readonly session: ClientSession;
  private readonly random: Random;
  private readonly clock: Clock;

  constructor(connectString: string, options: ClientOptions = {}) {
    super();
    const { hosts, chroot } = parseConnectString(connectString);
    const sessionTimeout = options.sessionTimeout ?? 30_000;
    if (!(sessionTimeout > 0)) throw new RangeError(`sessionTimeout must be positive, got ${sessionTimeout}`);
    this.random = options.random ?? systemRandom();
    this.clock = options.clock ?? systemClock;
    this.session = new ClientSession({
      hosts,
      chroot,
      sessionTimeout,
      canBeReadOnly: options.canBeReadOnly ?? false,
      clock: this.clock,
      random: this.random,
      channelFactory: options.channelFactory ?? wireChannelFactory(),
      spinDelay: options.spinDelay ?? 1000,
      reconnectDelay: options.reconnectDelay ?? 1000,
      sessionId: options.sessionId,
      passwd: options.sessionPassword,
      inspect: options.inspect,
    });
    this.session.on('state', (state) => {
      this.emit('state', state);
      this.emit(state);
    });
    this.session.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
      else
        queueMicrotask(() => {
          throw error;
        });
    });
    for (const { scheme, auth } of options.authInfo ?? []) void this.addAuth(scheme, auth).catch(() => {});
  }

  // ------------------------------------------------------------ session information

  /** The session id (0n until the first handshake). */
  get sessionId(): SessionId {
    return this.session.sessionId;
  }

  /** The session password (with `sessionId`, enough to resume the session elsewhere). */
  get sessionPassword(): Uint8Array {
    return this.session.sessionPassword;
  }

  /** The session machine's state. */
  get state(): SessionState {
    return this.session.state;
  }

  /** The session timeout the server granted (0 until the first handshake). */
  get negotiatedTimeout(): number {
    return this.session.negotiatedTimeout;
  }

  /** True while connected to a read-only server. */
  get readOnly(): boolean {
    return this.session.readOnly;
  }

  /** `host:port` of the server in use (or being tried). */
  get currentServer(): string | undefined {
    const host = this.session.currentHost;
    return host === undefined ? undefined : formatHost(host);
  }

  /** The highest zxid seen in a reply (sent on reconnect, §9.6). */
  get lastZxidSeen(): number {
    return this.session.lastZxidSeen;
  }

  /** Resolves when connected (now, or after the next handshake); rejects if the session ends first. */
  waitUntilConnected(options: CallOptions = {}): Promise<void> {
    return this.session.waitUntilConnected(options.signal);
  }

  /** Close the session: requests already made finish first, then closeSession; ephemerals go at once. */
  close(): Promise<void> {
    return this.session.close();
  }

  // ------------------------------------------------------------ writes

  /**
   * Create a node; resolves to its path (with the sequence suffix for sequential modes),
   * or `{ path, stat }` with `stat: true`. Modes: every `CreateMode`; containers use
   * opcode 19 and TTL modes opcode 21 (needs `ttl` and a server with extended types).
   */
  create(path: string, data?: Data, options?: CreateOptions & { stat?: false }): Promise<string>;
  create(path: string, data: Data | undefined, options: CreateOptions & { stat: true }): Promise<CreateResult>;
  create(path: string, data?: Data, options: CreateOptions = {}): Promise<string | CreateResult> {
    return this.guard(() => {
      const mode = options.mode ?? CreateMode.PERSISTENT;
      validatePath(path, isSequentialMode(mode));
      const type = createOpcode(mode, options.stat === true, options.ttl);
      const request = {
        type,
        path: this.session.serverPath(path),
        data: toBytes(data),
        acl: [...(options.acl ?? OPEN_ACL_UNSAFE)],
        flags: mode,
        ...(type === OpCode.createTTL ? { ttl: options.ttl ?? -1 } : {}),
      };
      return this.session.call(
        request,
        path,
        (err, response) => {
          check(err, path);
          const created = this.session.clientPath((response as CreateResponse).path);
          if (!options.stat) return created;
          return { path: created, stat: (response as Create2Response).stat };
        },
        options.signal,
      );
    });
  }

  /** Set a node's data; resolves to the new Stat. */
  setData(path: string, data: Data, options: VersionOptions = {}): Promise<Stat> {
    return this.guard(() => {
      validatePath(path);
      const request = { type: OpCode.setData, path: this.session.serverPath(path), data: toBytes(data), version: options.version ?? -1 } as const;
      return this.session.call(request, path, (err, response) => statOf(err, path, response), options.signal);
    });
  }

  /** Delete a node. */
  delete(path: string, options: VersionOptions = {}): Promise<void> {
    return this.guard(() => {
      validatePath(path);
      const request = { type: OpCode.delete, path: this.session.serverPath(path), version: options.version ?? -1 } as const;
      return this.session.call(request, path, (err) => check(err, path), options.signal);
    });
  }

  /** Replace a node's ACL (`version` is checked against the aversion); resolves to the new Stat. */
  setACL(path: string, acl: readonly ACL[], options: VersionOptions = {}): Promise<Stat> {
    return this.guard(() => {
      validatePath(path);
      const request = { type: OpCode.setACL, path: this.session.serverPath(path), acl: [...acl], version: options.version ?? -1 };
      return this.session.call(request, path, (err, response) => statOf(err, path, response), options.signal);
    });
  }

  /** Run ops atomically. Rejects with a `MultiError` (code and path of the failing op, per-op `results`). */
  multi(ops: readonly MultiOp[], options: CallOptions = {}): Promise<MultiResult[]> {
    return this.guard(() => {
      const wireOps = toWireOps(ops, (p) => this.session.serverPath(p));
      return this.session.call(
        { type: OpCode.multi, ops: wireOps },
        undefined,
        (err, response) => {
          check(err, undefined);
          return fromWireResults(ops, (response as MultiResponse).results, (p) => this.session.clientPath(p));
        },
        options.signal,
      );
    });
  }

  /** A fluent multi builder; nothing is sent before `commit()`. */
  transaction(): Transaction {
    return new Transaction((ops, options) => this.multi(ops, options));
  }

  // ------------------------------------------------------------ reads

  /** Read a node's data and Stat; `watch` fires once on its next change or deletion. */
  getData(path: string, options: WatchOptions = {}): Promise<DataResult> {
    return this.guard(() => {
      validatePath(path);
      const { watch } = options;
      const request = { type: OpCode.getData, path: this.session.serverPath(path), watch: watch !== undefined } as const;
      return this.session.call(
        request,
        path,
        (err, response) => {
          check(err, path);
          if (watch) this.session.watches.add('data', path, watch);
          return dataResult(response);
        },
        options.signal,
      );
    });
  }

  /**
   * The node's Stat, or null if it does not exist. `watch` fires once when it is
   * created, changed or deleted (registered in both cases).
   */
  exists(path: string, options: WatchOptions = {}): Promise<Stat | null> {
    return this.guard(() => {
      validatePath(path);
      const { watch } = options;
      const request = { type: OpCode.exists, path: this.session.serverPath(path), watch: watch !== undefined } as const;
      return this.session.call(
        request,
        path,
        (err, response) => {
          if (err === ErrorCode.NoNode) {
            if (watch) this.session.watches.add('exist', path, watch);
            return null;
          }
          check(err, path);
          if (watch) this.session.watches.add('data', path, watch);
          return (response as StatResponse).stat;
        },
        options.signal,
      );
    });
  }

  /** The children's names (unordered, as the server sends them); `watch` fires once on a child-list change or deletion. */
  getChildren(path: string, options?: GetChildrenOptions & { stat?: false }): Promise<string[]>;
  getChildren(path: string, options: GetChildrenOptions & { stat: true }): Promise<ChildrenResult>;
  getChildren(path: string, options: GetChildrenOptions = {}): Promise<string[] | ChildrenResult> {
    return this.guard(() => {
      validatePath(path);
      const { watch } = options;
      const type = options.stat ? OpCode.getChildren2 : OpCode.getChildren;
      const request = { type, path: this.session.serverPath(path), watch: watch !== undefined };
      return this.session.call(
        request,
        path,
        (err, response) => {
          check(err, path);
          if (watch) this.session.watches.add('child', path, watch);
          if (!options.stat) return (response as GetChildrenResponse).children;
          const { children, stat } = response as GetChildren2Response;
          return { children, stat };
        },
        options.signal,
      );
    });
  }

  /** The node's ACL and Stat. */
  getACL(path: string, options: CallOptions = {}): Promise<ACLResult> {
    return this.guard(() => {
      validatePath(path);
      return this.session.call(
        { type: OpCode.getACL, path: this.session.serverPath(path) },
        path,
        (err, response) => {
          check(err, path);
          const { acl, stat } = response as GetACLResponse;
          return { acl, stat };
        },
        options.signal,
      );
    });
  }

  /** This session's ephemeral nodes whose path starts with `prefix` (default all). */
  getEphemerals(prefix = '/', options: CallOptions = {}): Promise<string[]> {
    return this.guard(() => {
      validatePath(prefix);
      return this.session.call(
        { type: OpCode.getEphemerals, prefixPath: this.session.serverPath(prefix) },
        prefix,
        (err, response) => {
          check(err, prefix);
          return (response as GetEphemeralsResponse).ephemerals.map((p) => this.session.clientPath(p));
        },
        options.signal,
      );
    });
  }

  /** The number of all descendants of a node. */
  getAllChildrenNumber(path: string, options: CallOptions = {}): Promise<number> {
    return this.guard(() => {
      validatePath(path);
      return this.session.call(
        { type: OpCode.getAllChildrenNumber, path: this.session.serverPath(path) },
        path,
        (err, response) => {
          check(err, path);
          return (response as GetAllChildrenNumberResponse).totalNumber;
        },
        options.signal,
      );
    });
  }

  /**
   * The ensemble's dynamic configuration (`/zookeeper/config`: `server.N=...` lines and
   * `version=<hex>`), as ZooKeeper's `getConfig`. The path is absolute: a chroot does not
   * apply. `watch` fires once when the configuration changes; it needs a client without
   * a chroot (the event's path would otherwise be outside it).
   */
  getConfig(options: WatchOptions = {}): Promise<DataResult> {
    return this.guard(() => {
      const { watch } = options;
      if (watch !== undefined && this.session.chroot !== undefined) {
        throw ZooKeeperError.of(ErrorCode.BadArguments, CONFIG_NODE);
      }
      return this.session.call(
        { type: OpCode.getData, path: CONFIG_NODE, watch: watch !== undefined },
        CONFIG_NODE,
        (err, response) => {
          check(err, CONFIG_NODE);
          if (watch) this.session.watches.add('data', CONFIG_NODE, watch);
          return dataResult(response);
        },
        options.signal,
      );
    });
  }

  /**
   * Dynamic reconfiguration (ZooKeeper's admin `reconfig`, opcode 16): add `joining`
   * servers (`server.N=host:quorumPort:electionPort[:participant|:observer];[host:]clientPort`,
   * comma-separated), remove `leaving` ids (comma-separated), or replace the whole
   * membership with `members`. `fromConfig` is the version the change is based on (-1n,
   * the default: any). Resolves with the new configuration. Needs a server with
   * reconfig enabled (else `ReconfigDisabledError`) and the super user (else `NoAuthError`).
   */
  reconfig(change: ReconfigChange, options: CallOptions = {}): Promise<DataResult> {
    return this.guard(() => {
      const request = {
        type: OpCode.reconfig,
        joiningServers: change.joining ?? null,
        leavingServers: change.leaving ?? null,
        newMembers: change.members ?? null,
        curConfigId: change.fromConfig ?? -1n,
      } as const;
      return this.session.call(
        request,
        CONFIG_NODE,
        (err, response) => {
          check(err, CONFIG_NODE);
          return dataResult(response);
        },
        options.signal,
      );
    });
  }

  /** Wait until the server this client uses has caught up with the leader (reads after it see every earlier write). */
  sync(path: string, options: CallOptions = {}): Promise<void> {
    return this.guard(() => {
      validatePath(path);
      return this.session.call({ type: OpCode.sync, path: this.session.serverPath(path) }, path, (err) => check(err, path), options.signal);
    });
  }

  /** The identities of this connection (ip, digest user, ...). */
  whoAmI(options: CallOptions = {}): Promise<ClientInfo[]> {
    return this.guard(() =>
      this.session.call(
        { type: OpCode.whoAmI },
        undefined,
        (err, response) => {
          check(err, undefined);
          return (response as WhoAmIResponse).clientInfo.map(({ authScheme, user }) => ({ authScheme, user }));
        },
        options.signal,
      ),
    );
  }

  /**
   * Authenticate this connection, e.g. `addAuth('digest', 'user:password')`. The auth is
   * re-sent after every reconnect. Rejects with AuthFailedError (and the session ends)
   * if the server rejects it.
   */
  addAuth(scheme: string, auth: string | Uint8Array, options: CallOptions = {}): Promise<void> {
    return this.session.addAuth(scheme, typeof auth === 'string' ? Buffer.from(auth, 'utf8') : auth, options.signal);
  }

  // ------------------------------------------------------------ watches

  /**
   * Add a persistent watch (`AddWatchMode.PERSISTENT`: data and child events of the node)
   * or a recursive one (`PERSISTENT_RECURSIVE`: every event but NodeChildrenChanged on
   * the node and all descendants). `listener` fires until removed with `removeWatches`.
   */
  addWatch(path: string, mode: AddWatchMode, listener: Watcher, options: CallOptions = {}): Promise<void> {
    return this.guard(() => {
      validatePath(path);
      return this.session.call(
        { type: OpCode.addWatch, path: this.session.serverPath(path), mode },
        path,
        (err) => {
          check(err, path);
          this.session.watches.add(mode === AddWatchMode.PERSISTENT_RECURSIVE ? 'recursive' : 'persistent', path, listener);
        },
        options.signal,
      );
    });
  }

  /**
   * Remove watches of `type` (`WatcherType.Children`, `Data` or `Any`; Any includes
   * persistent watches) on `path`, or only `options.watcher`. Each removed watcher
   * receives DataWatchRemoved / ChildWatchRemoved / PersistentWatchRemoved. Rejects with
   * NoWatcherError if there is none.
   */
  removeWatches(path: string, type: WatcherType, options: RemoveWatchesOptions = {}): Promise<void> {
    return this.guard(async () => {
      validatePath(path);
      const { watcher, local = false } = options;
      const watches = this.session.watches;
      if (!watches.contains(path, type, watcher)) throw new NoWatcherError(path);
      // Java asks the server to remove the watch (opcode 18) when removing every watcher of
      // the type, and only checks it (17) when removing one watcher, as others may share it.
      // Here a watcher that is the last one on the path also removes the server's watch.
      const removeOnServer = watcher === undefined || watches.onlyWatcherOn(path, watcher);
      const tellServer = !local || this.session.state === 'CONNECTED';
      if (tellServer) {
        const request = { type: removeOnServer ? OpCode.removeWatches : OpCode.checkWatches, path: this.session.serverPath(path), watcherType: type } as const;
        try {
          await this.session.call(request, path, (err) => check(err, path), options.signal);
        } catch (error) {
          if (!local || !(error instanceof ZooKeeperError)) throw error;
        }
      }
      const removed = watches.remove(path, type, watcher);
      if (removed.length === 0) throw new NoWatcherError(path);
      for (const r of removed) this.session.deliver(r.watcher, { type: r.type, state: 'SyncConnected', path });
    });
  }

  /**
   * Watch `path` as an async iterator (a persistent watch; `recursive: true` for the
   * whole subtree). Leaving the loop removes the watch; see `WatchStream`.
   */
  watch(path: string, options: WatchStreamOptions = {}): WatchStream {
    const mode = options.recursive ? AddWatchMode.PERSISTENT_RECURSIVE : AddWatchMode.PERSISTENT;
    return createWatchStream(
      {
        register: (listener, signal) => this.addWatch(path, mode, listener, { signal }),
        unregister: (listener) => this.removeWatches(path, WatcherType.Any, { watcher: listener, local: true }),
      },
      options.signal,
    );
  }

  // ------------------------------------------------------------ recipes

  /**
   * Create a node safely across ConnectionLoss (Curator's protection; see protected.ts):
   * its name is `_c_<uuid>-<name>` (plus the counter for sequential modes). If a create's
   * reply is lost, the client waits for the reconnect, lists the parent and adopts the
   * child with this uuid, or retries the create if there is none. Retries go on while the
   * session lives, until `signal` aborts or `timeout` passes; a node possibly made by an
   * abandoned attempt is deleted in the background. Resolves to the created path, or
   * `{ path, stat }` with `stat: true`.
   *
   * ```ts
   * const path = await client.createProtectedSequential('/locks/lock-');
   * // → '/locks/_c_2f1a…-lock-0000000007'
   * const { stat } = await client.createProtectedSequential('/app/q/item-', data, { createParents: 'containers', stat: true });
   * ```
   */
  createProtectedSequential(path: string, data?: Data, options?: ProtectedCreateOptions & { stat?: false }): Promise<string>;
  createProtectedSequential(path: string, data: Data | undefined, options: ProtectedCreateOptions & { stat: true }): Promise<CreateResult>;
  createProtectedSequential(path: string, data?: Data, options: ProtectedCreateOptions = {}): Promise<string | CreateResult> {
    return this.guard(() => createProtected(this, { clock: this.clock, random: this.random }, path, data, options));
  }

  // ------------------------------------------------------------ helpers

  /** Run `fn`, turning a synchronous throw (validation) into a rejection. */
  private guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return fn();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** ZooKeeper's configuration node. */
const CONFIG_NODE = '/zookeeper/config';

/** A membership change for `ZooKeeperClient.reconfig`: incremental (`joining`/`leaving`) or whole (`members`). */
export interface ReconfigChange {
  /** Servers to add, comma-separated `server.N=...` specs. */
  joining?: string;
  /** Server ids to remove, comma-separated. */
  leaving?: string;
  /** The complete new membership (non-incremental), comma-separated specs. */
  members?: string;
  /** The configuration version this change is based on (default -1n: whatever is current). */
  fromConfig?: bigint;
}

/** getData's reply (also getConfig's and reconfig's) as the API returns it. */
function dataResult(response: ClientResponse): DataResult {
  const { data, stat } = response as GetDataResponse;
  return { data: data === null ? null : toBuffer(data), stat };
}

function check(err: number, path: string | undefined): void {
  if (err !== 0) throw ZooKeeperError.of(err as ErrorCode, path);
}

function statOf(err: number, path: string, response: ClientResponse): Stat {
  check(err, path);
  return (response as StatResponse).stat;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
