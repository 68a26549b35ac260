/**
 * multi (opcode 14): the typed operations an application passes, their translation to
 * protocol records, the typed results, and the error a failed multi rejects with
 * (reference §12). A fluent `Transaction` builder sits on top.
 */
import { CreateMode, OpCode, isSequentialMode, isTtlMode } from '../protocol/constants.js';
import { ZooKeeperError, type ErrorCode } from '../protocol/errors.js';
import type { ACL, MultiWriteOp, OpResult as WireOpResult, Stat } from '../protocol/records.js';
import { OPEN_ACL_UNSAFE } from './acl.js';
import { validatePath } from './paths.js';
import type { CallOptions, Data } from './types.js';

/** Options of a create inside a multi. */
export interface MultiCreateOptions {
  mode?: CreateMode;
  acl?: readonly ACL[];
  /** Milliseconds; only with the TTL modes. */
  ttl?: number;
}

/** One operation of a multi. `version` -1 (the default) matches any version. */
export type MultiOp =
  | ({ type: 'create'; path: string; data?: Data } & MultiCreateOptions)
  | { type: 'delete'; path: string; version?: number }
  | { type: 'setData'; path: string; data: Data; version?: number }
  | { type: 'check'; path: string; version: number };

/** The result of one operation. `stat` is present for container and TTL creates. */
export type MultiResult =
  | { type: 'create'; path: string; stat?: Stat }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'check' }
  | { type: 'error'; code: number };

/** What a failed multi's error carries besides its code and path. */
export interface MultiErrorDetails {
  /** One result per op: `{ type: 'error', code }` with 0 before the failing op, its code, then -2. */
  results: MultiResult[];
  /** Index of the failing op. */
  failedIndex: number;
}

/** A ZooKeeperError (of the failing op's code and path) thrown by a failed multi. */
export type MultiError = ZooKeeperError & MultiErrorDetails;

/** True if `error` came from a failed multi (and so carries per-op results). */
export function isMultiError(error: unknown): error is MultiError {
  return error instanceof ZooKeeperError && Array.isArray((error as Partial<MultiErrorDetails>).results);
}

/** Bytes of `data` for the wire (strings as UTF-8). */
export function toBytes(data: Data | undefined): Uint8Array | null {
  if (data === undefined) return EMPTY;
  if (data === null) return null;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

const EMPTY = new Uint8Array(0);

/** The create opcode for a mode: container → 19, TTL modes → 21, else 1 (or 15 when a Stat is wanted). */
export function createOpcode(mode: number, wantStat: boolean, ttl: number | undefined): typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL {
  if (mode === CreateMode.CONTAINER) return OpCode.createContainer;
  // A ttl with a non-TTL mode goes out as createTTL too, so the server answers BadArguments (§10.6).
  if (isTtlMode(mode) || ttl !== undefined) return OpCode.createTTL;
  return wantStat ? OpCode.create2 : OpCode.create;
}

/** Validate the ops' paths and translate them (paths through `serverPath`). */
export function toWireOps(ops: readonly MultiOp[], serverPath: (path: string) => string): MultiWriteOp[] {
  return ops.map((op): MultiWriteOp => {
    switch (op.type) {
      case 'create': {
        const mode = op.mode ?? CreateMode.PERSISTENT;
        validatePath(op.path, isSequentialMode(mode));
        const type = createOpcode(mode, false, op.ttl);
        const request: MultiWriteOp = { type, path: serverPath(op.path), data: toBytes(op.data), acl: [...(op.acl ?? OPEN_ACL_UNSAFE)], flags: mode };
        if (type === OpCode.createTTL) request.ttl = op.ttl ?? -1;
        return request;
      }
      case 'delete':
        validatePath(op.path);
        return { type: OpCode.delete, path: serverPath(op.path), version: op.version ?? -1 };
      case 'setData':
        validatePath(op.path);
        return { type: OpCode.setData, path: serverPath(op.path), data: toBytes(op.data), version: op.version ?? -1 };
      case 'check':
        validatePath(op.path);
        return { type: OpCode.check, path: serverPath(op.path), version: op.version };
      default:
        throw new TypeError(`unknown multi op ${(op as { type: unknown }).type}`);
    }
  });
}

/** Translate the wire results; throws the failing op's error (with all results) if any op failed. */
export function fromWireResults(ops: readonly MultiOp[], results: readonly WireOpResult[], clientPath: (path: string) => string): MultiResult[] {
  const typed = results.map((r): MultiResult => {
    switch (r.type) {
      case OpCode.create:
        return { type: 'create', path: clientPath(r.path) };
      case OpCode.create2:
        return { type: 'create', path: clientPath(r.path), stat: r.stat };
      case OpCode.delete:
        return { type: 'delete' };
      case OpCode.setData:
        return { type: 'setData', stat: r.stat };
      case OpCode.check:
        return { type: 'check' };
      case OpCode.error:
        return { type: 'error', code: r.err };
      default:
        return { type: 'error', code: -5 };
    }
  });
  const failedIndex = typed.findIndex((r) => r.type === 'error' && r.code !== 0);
  if (failedIndex >= 0) {
    const failed = typed[failedIndex] as { type: 'error'; code: number };
    const error = ZooKeeperError.of(failed.code as ErrorCode, ops[failedIndex]?.path) as MultiError;
    error.results = typed;
    error.failedIndex = failedIndex;
    throw error;
  }
  return typed;
}

/**
 * A fluent multi: `client.transaction().create('/a').setData('/b', 'x').delete('/c').check('/d', 3).commit()`.
 * Nothing is sent before `commit`.
 */
export class Transaction {
  private readonly ops: MultiOp[] = [];

  constructor(private readonly run: (ops: MultiOp[], options?: CallOptions) => Promise<MultiResult[]>) {}

  /** Add a create. */
  create(path: string, data?: Data, options: MultiCreateOptions = {}): this {
    this.ops.push({ type: 'create', path, data, ...options });
    return this;
  }

  /** Add a delete (`version` -1: any). */
  delete(path: string, version = -1): this {
    this.ops.push({ type: 'delete', path, version });
    return this;
  }

  /** Add a setData (`version` -1: any). */
  setData(path: string, data: Data, version = -1): this {
    this.ops.push({ type: 'setData', path, data, version });
    return this;
  }

  /** Add a version check (`version` -1: only that the node exists). */
  check(path: string, version: number): this {
    this.ops.push({ type: 'check', path, version });
    return this;
  }

  /** The ops added so far. */
  get operations(): readonly MultiOp[] {
    return this.ops;
  }

  /** Send the multi; all or nothing. Rejects with a `MultiError` if an op fails. */
  commit(options?: CallOptions): Promise<MultiResult[]> {
    return this.run([...this.ops], options);
  }
}
