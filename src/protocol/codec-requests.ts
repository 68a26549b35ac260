/**
 * Client → server requests (reference §5, §6, §12.1): `encodeRequest` builds a whole
 * frame (length prefix, RequestHeader, body) and `decodeRequest` parses a frame payload.
 *
 * `decodeRequest` separates the two failures the server answers differently (§6):
 * - `UnknownOpcodeError` (code -6, carries the xid): reply Unimplemented, then close;
 * - `RequestDecodeError` (code -5, carries the xid and opcode): the header parsed but the
 *   body did not; reply MarshallingError and keep the connection;
 * - a plain `DecodeError`: not even the header parsed; close the connection.
 */
import { OpCode } from './constants.js';
import { DecodeError, UnimplementedError } from './errors.js';
import { JuteReader, JuteWriter } from './jute.js';
import type { JuteReaderOptions } from './jute.js';
import {
  MULTI_HEADER_BYTES,
  REQUEST_HEADER_BYTES,
  aclBound,
  bufferSize,
  readACLs,
  readMultiHeader,
  stringBound,
  stringVectorBound,
  writeACLs,
  writeMultiHeader,
} from './codec-records.js';
import type {
  ClientRequest,
  CreateRequest,
  MultiReadOp,
  MultiWriteOp,
  RequestHeader,
} from './records.js';

/** The header parsed but the body did not: answer MarshallingError (-5) with `xid`, keep the connection. */
export class RequestDecodeError extends DecodeError {
  /** The request's xid, to echo in the error reply. */
  readonly xid: number;
  /** The request's opcode. */
  readonly opcode: number;

  constructor(xid: number, opcode: number, message: string) {
    super(message);
    this.xid = xid;
    this.opcode = opcode;
  }
}

/** A request with an opcode clients may not send: answer Unimplemented (-6) with `xid`, then close. */
export class UnknownOpcodeError extends UnimplementedError {
  /** The request's xid, to echo in the error reply. */
  readonly xid: number;
  /** The opcode received. */
  readonly opcode: number;

  constructor(xid: number, opcode: number) {
    super(undefined, `unknown opcode ${opcode} (xid ${xid})`);
    this.xid = xid;
    this.opcode = opcode;
  }
}

/** A decoded request frame. */
export interface DecodedRequest {
  header: RequestHeader;
  request: ClientRequest;
}

// ---------------------------------------------------------------- encoding

function createBound(r: CreateRequest): number {
  return stringBound(r.path) + bufferSize(r.data) + aclBound(r.acl) + 4 + 8;
}

function multiOpBound(op: MultiWriteOp | MultiReadOp): number {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return MULTI_HEADER_BYTES + createBound(op);
    case OpCode.setData:
      return MULTI_HEADER_BYTES + stringBound(op.path) + bufferSize(op.data) + 4;
    default:
      return MULTI_HEADER_BYTES + stringBound(op.path) + 4;
  }
}

/** An upper bound of a request body's encoded size. */
export function requestBodyBound(req: ClientRequest): number {
  switch (req.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return createBound(req);
    case OpCode.setData:
      return stringBound(req.path) + bufferSize(req.data) + 4;
    case OpCode.setACL:
      return stringBound(req.path) + aclBound(req.acl) + 4;
    case OpCode.multi:
    case OpCode.multiRead: {
      let n = MULTI_HEADER_BYTES;
      for (const op of req.ops) n += multiOpBound(op);
      return n;
    }
    case OpCode.getEphemerals:
      return stringBound(req.prefixPath);
    case OpCode.setWatches:
    case OpCode.setWatches2:
      return (
        8 +
        stringVectorBound(req.dataWatches) +
        stringVectorBound(req.existWatches) +
        stringVectorBound(req.childWatches) +
        stringVectorBound(req.persistentWatches) +
        stringVectorBound(req.persistentRecursiveWatches)
      );
    case OpCode.auth:
      return 4 + stringBound(req.scheme) + bufferSize(req.auth);
    case OpCode.reconfig:
      return stringBound(req.joiningServers) + stringBound(req.leavingServers) + stringBound(req.newMembers) + 8;
    case OpCode.sasl:
      return bufferSize(req.token);
    case OpCode.ping:
    case OpCode.closeSession:
    case OpCode.whoAmI:
      return 0;
    default:
      // path plus at most an int: delete, check, exists, getData, getChildren(2), getACL,
      // sync, getAllChildrenNumber, checkWatches, removeWatches, addWatch.
      return stringBound(req.path) + 4;
  }
}

function writeCreate(w: JuteWriter, r: CreateRequest): void {
  w.writeString(r.path);
  w.writeBuffer(r.data);
  writeACLs(w, r.acl);
  w.writeInt(r.flags);
  if (r.type === OpCode.createTTL) w.writeZxid(r.ttl ?? 0);
}

function writeMultiOp(w: JuteWriter, op: MultiWriteOp | MultiReadOp): void {
  writeMultiHeader(w, op.type, false, -1);
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      writeCreate(w, op);
      return;
    case OpCode.delete:
    case OpCode.check:
      w.writeString(op.path);
      w.writeInt(op.version);
      return;
    case OpCode.setData:
      w.writeString(op.path);
      w.writeBuffer(op.data);
      w.writeInt(op.version);
      return;
    case OpCode.getData:
    case OpCode.getChildren:
      // The watch flag is ignored inside multiRead; Java sends false.
      w.writeString(op.path);
      w.writeBool(false);
      return;
  }
}

/**
 * Write a request body (no header). setWatches (101) writes only the first three
 * lists; setWatches2 (105) all five.
 */
export function writeRequestBody(w: JuteWriter, req: ClientRequest): void {
  switch (req.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      writeCreate(w, req);
      return;
    case OpCode.delete:
    case OpCode.check:
      w.writeString(req.path);
      w.writeInt(req.version);
      return;
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      w.writeString(req.path);
      w.writeBool(req.watch);
      return;
    case OpCode.setData:
      w.writeString(req.path);
      w.writeBuffer(req.data);
      w.writeInt(req.version);
      return;
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.getAllChildrenNumber:
      w.writeString(req.path);
      return;
    case OpCode.setACL:
      w.writeString(req.path);
      writeACLs(w, req.acl);
      w.writeInt(req.version);
      return;
    case OpCode.multi:
    case OpCode.multiRead:
      for (const op of req.ops) writeMultiOp(w, op);
      writeMultiHeader(w, -1, true, -1);
      return;
    case OpCode.reconfig:
      w.writeString(req.joiningServers);
      w.writeString(req.leavingServers);
      w.writeString(req.newMembers);
      w.writeLong(req.curConfigId);
      return;
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      w.writeString(req.path);
      w.writeInt(req.watcherType);
      return;
    case OpCode.auth:
      w.writeInt(req.authType);
      w.writeString(req.scheme);
      w.writeBuffer(req.auth);
      return;
    case OpCode.setWatches:
    case OpCode.setWatches2:
      w.writeZxid(req.relativeZxid);
      w.writeStringVector(req.dataWatches);
      w.writeStringVector(req.existWatches);
      w.writeStringVector(req.childWatches);
      if (req.type === OpCode.setWatches2) {
        w.writeStringVector(req.persistentWatches);
        w.writeStringVector(req.persistentRecursiveWatches);
      }
      return;
    case OpCode.sasl:
      w.writeBuffer(req.token);
      return;
    case OpCode.getEphemerals:
      w.writeString(req.prefixPath);
      return;
    case OpCode.addWatch:
      w.writeString(req.path);
      w.writeInt(req.mode);
      return;
    case OpCode.ping:
    case OpCode.closeSession:
    case OpCode.whoAmI:
      return;
  }
}

/** Append a whole request frame (length prefix, RequestHeader{xid, req.type}, body) to `w`. */
export function writeRequest(w: JuteWriter, xid: number, req: ClientRequest): void {
  w.ensure(4 + REQUEST_HEADER_BYTES + requestBodyBound(req));
  writeRequestFrame(w, xid, req);
}

function writeRequestFrame(w: JuteWriter, xid: number, req: ClientRequest): void {
  const at = w.reserveLength();
  w.writeInt(xid);
  w.writeInt(req.type);
  writeRequestBody(w, req);
  w.patchLength(at);
}

/** Encode a request as a whole frame. A ping is `encodeRequest(-2, { type: 11 })`. */
export function encodeRequest(xid: number, req: ClientRequest): Uint8Array {
  const w = JuteWriter.forFrame(4 + REQUEST_HEADER_BYTES + requestBodyBound(req));
  writeRequestFrame(w, xid, req);
  return w.finish();
}

// ---------------------------------------------------------------- decoding

function readCreate(r: JuteReader, type: CreateRequest['type']): CreateRequest {
  const path = r.readString('CreateRequest.path');
  const data = r.readBuffer('CreateRequest.data');
  const acl = readACLs(r, 'CreateRequest.acl');
  const flags = r.readInt('CreateRequest.flags');
  if (type === OpCode.createTTL) return { type, path, data, acl, flags, ttl: r.readZxid('CreateTTLRequest.ttl') };
  return { type, path, data, acl, flags };
}

function readMultiWriteOp(r: JuteReader, type: number): MultiWriteOp {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return readCreate(r, type);
    case OpCode.delete:
      return { type, path: r.readString('DeleteRequest.path'), version: r.readInt('DeleteRequest.version') };
    case OpCode.check:
      return { type, path: r.readString('CheckVersionRequest.path'), version: r.readInt('CheckVersionRequest.version') };
    case OpCode.setData: {
      const path = r.readString('SetDataRequest.path');
      const data = r.readBuffer('SetDataRequest.data');
      return { type, path, data, version: r.readInt('SetDataRequest.version') };
    }
    default:
      throw r.error('MultiOperationRecord', `op type ${type} not allowed in multi`);
  }
}

function readMultiReadOp(r: JuteReader, type: number): MultiReadOp {
  if (type !== OpCode.getData && type !== OpCode.getChildren) {
    throw r.error('MultiOperationRecord', `op type ${type} not allowed in multiRead`);
  }
  const path = r.readString('MultiOperationRecord.path');
  r.readBool('MultiOperationRecord.watch');
  return { type, path };
}

function readMultiOps<T>(r: JuteReader, readOp: (r: JuteReader, type: number) => T): T[] {
  const ops: T[] = [];
  for (;;) {
    const h = readMultiHeader(r);
    if (h.done) return ops;
    ops.push(readOp(r, h.type));
  }
}

/**
 * Read the body of a request of opcode `type`; undefined if clients may not send that
 * opcode (notification 0, deleteContainer 20, createSession -10, error -1, anything
 * unknown). Throws DecodeError if the body is malformed. Null strings read as ''.
 */
export function readRequestBody(r: JuteReader, type: number): ClientRequest | undefined {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return readCreate(r, type);
    case OpCode.delete:
    case OpCode.check:
      return { type, path: r.readString('path'), version: r.readInt('version') };
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      return { type, path: r.readString('path'), watch: r.readBool('watch') };
    case OpCode.setData: {
      const path = r.readString('SetDataRequest.path');
      const data = r.readBuffer('SetDataRequest.data');
      return { type, path, data, version: r.readInt('SetDataRequest.version') };
    }
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.getAllChildrenNumber:
      return { type, path: r.readString('path') };
    case OpCode.setACL: {
      const path = r.readString('SetACLRequest.path');
      const acl = readACLs(r, 'SetACLRequest.acl');
      return { type, path, acl, version: r.readInt('SetACLRequest.version') };
    }
    case OpCode.multi:
      return { type, ops: readMultiOps(r, readMultiWriteOp) };
    case OpCode.multiRead:
      return { type, ops: readMultiOps(r, readMultiReadOp) };
    case OpCode.reconfig: {
      const joiningServers = r.readUstring('ReconfigRequest.joiningServers');
      const leavingServers = r.readUstring('ReconfigRequest.leavingServers');
      const newMembers = r.readUstring('ReconfigRequest.newMembers');
      return { type, joiningServers, leavingServers, newMembers, curConfigId: r.readLong('ReconfigRequest.curConfigId') };
    }
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      return { type, path: r.readString('path'), watcherType: r.readInt('type') };
    case OpCode.auth: {
      const authType = r.readInt('AuthPacket.type');
      const scheme = r.readString('AuthPacket.scheme');
      return { type, authType, scheme, auth: r.readBuffer('AuthPacket.auth') };
    }
    case OpCode.setWatches:
    case OpCode.setWatches2: {
      const relativeZxid = r.readZxid('SetWatches.relativeZxid');
      const dataWatches = r.readStringVector('SetWatches.dataWatches');
      const existWatches = r.readStringVector('SetWatches.existWatches');
      const childWatches = r.readStringVector('SetWatches.childWatches');
      const v2 = type === OpCode.setWatches2;
      const persistentWatches = v2 ? r.readStringVector('SetWatches2.persistentWatches') : [];
      const persistentRecursiveWatches = v2 ? r.readStringVector('SetWatches2.persistentRecursiveWatches') : [];
      return { type, relativeZxid, dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches };
    }
    case OpCode.sasl:
      return { type, token: r.readBuffer('GetSASLRequest.token') };
    case OpCode.getEphemerals:
      return { type, prefixPath: r.readString('GetEphemeralsRequest.prefixPath') };
    case OpCode.addWatch:
      return { type, path: r.readString('AddWatchRequest.path'), mode: r.readInt('AddWatchRequest.mode') };
    case OpCode.ping:
    case OpCode.closeSession:
    case OpCode.whoAmI:
      return { type };
    default:
      return undefined;
  }
}

/**
 * Decode a request frame payload (RequestHeader + body). Trailing bytes after the body
 * are ignored, as ZooKeeper does. Throws `DecodeError` (header unreadable),
 * `UnknownOpcodeError` or `RequestDecodeError` (see the module comment).
 */
export function decodeRequest(payload: Uint8Array, options?: JuteReaderOptions): DecodedRequest {
  const r = new JuteReader(payload, options);
  const xid = r.readInt('RequestHeader.xid');
  const type = r.readInt('RequestHeader.type');
  let request: ClientRequest | undefined;
  try {
    request = readRequestBody(r, type);
  } catch (e) {
    if (e instanceof DecodeError) throw new RequestDecodeError(xid, type, `opcode ${type}, xid ${xid}: ${e.message}`);
    throw e;
  }
  if (request === undefined) throw new UnknownOpcodeError(xid, type);
  return { header: { xid, type }, request };
}
