/** Test harness: a tree plus its preparer, with a zxid counter and a fake clock. */
import { OpCode } from '../../../src/protocol/constants.js';
import type { ACL, CreateRequest, Id, MultiWriteOp, SessionId } from '../../../src/protocol/records.js';
import type { Txn } from '../../../src/protocol/txn.js';
import { OPEN_ACL_UNSAFE } from '../../../src/tree/acl.js';
import { DataTree, type ApplyResult, type DataTreeOptions, type OpOutcome } from '../../../src/tree/data-tree.js';
import { RequestPreparer, type PrepareRequest, type RequestPreparerOptions } from '../../../src/tree/prepare.js';

export const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ perms: a.perms, id: { ...a.id } }));
export const SESSION: SessionId = 0x0100_0000_0000_0001n;
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Options of one write. */
export interface WriteOptions {
  session?: SessionId;
  authIds?: Id[];
  time?: number;
}

/** A tree, its preparer, and helpers that prepare and apply in one step. */
export class Harness {
  readonly tree: DataTree;
  readonly preparer: RequestPreparer;
  zxid = 0;
  time = 1_000;

  constructor(options: { tree?: DataTreeOptions; preparer?: RequestPreparerOptions; from?: DataTree } = {}) {
    this.tree = options.from ?? new DataTree(options.tree);
    this.zxid = this.tree.lastProcessedZxid;
    this.preparer = new RequestPreparer(this.tree, options.preparer);
  }

  /** Prepare only (outstanding); the caller applies. */
  prepare(request: PrepareRequest, options: WriteOptions = {}): Txn {
    this.zxid++;
    this.time += 10;
    return this.preparer.prepare(
      { sessionId: options.session ?? SESSION, cxid: this.zxid, zxid: this.zxid, time: options.time ?? this.time },
      request,
      options.authIds ?? [],
    );
  }

  /** Prepare then apply. */
  write(request: PrepareRequest, options: WriteOptions = {}): ApplyResult & { txn: Txn } {
    const txn = this.prepare(request, options);
    return { ...this.tree.apply(txn), txn };
  }

  create(path: string, data: Uint8Array | null = bytes('x'), flags = 0, options: WriteOptions & { acl?: ACL[]; type?: CreateRequest['type']; ttl?: number } = {}) {
    const request: CreateRequest = { type: options.type ?? OpCode.create, path, data, acl: options.acl ?? OPEN, flags };
    if (options.ttl !== undefined) request.ttl = options.ttl;
    return this.write(request, options);
  }

  delete(path: string, version = -1, options: WriteOptions = {}) {
    return this.write({ type: OpCode.delete, path, version }, options);
  }

  setData(path: string, data: Uint8Array | null, version = -1, options: WriteOptions = {}) {
    return this.write({ type: OpCode.setData, path, data, version }, options);
  }

  setACL(path: string, acl: ACL[], version = -1, options: WriteOptions = {}) {
    return this.write({ type: OpCode.setACL, path, acl, version }, options);
  }

  multi(ops: MultiWriteOp[], options: WriteOptions = {}) {
    return this.write({ type: OpCode.multi, ops }, options);
  }

  createSession(session: SessionId, timeout = 30_000) {
    return this.write({ type: OpCode.createSession, timeout }, { session });
  }

  closeSession(session: SessionId) {
    return this.write({ type: OpCode.closeSession }, { session });
  }
}

/** The error code of a single-op result (0 on success). */
export function errOf(result: ApplyResult): number {
  return result.outcome.kind === 'error' ? result.outcome.err : 0;
}

/** A create op for multi. */
export function createOp(path: string, flags = 0, data: Uint8Array | null = bytes('m')): MultiWriteOp {
  return { type: OpCode.create, path, data, acl: OPEN, flags };
}

/** The per-op outcomes of an applied multi. */
export function resultsOf(result: ApplyResult): readonly OpOutcome[] {
  if (result.outcome.kind !== 'multi') throw new Error(`not a multi outcome: ${result.outcome.kind}`);
  return result.outcome.results;
}
