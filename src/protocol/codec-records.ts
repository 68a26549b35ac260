/**
 * Encoders and decoders of the shared client-protocol records (reference §3): Id, ACL,
 * Stat, the connect handshake, request/reply headers, WatcherEvent and MultiHeader.
 * `write*` append to a `JuteWriter`; `read*` consume from a `JuteReader`; `encode*`
 * return a whole frame (length prefix included) and `decode*` take a frame payload.
 */
import { JuteReader, JuteWriter } from './jute.js';
import type { JuteReaderOptions } from './jute.js';
import type { ACL, ConnectRequest, ConnectResponse, Id, ReplyHeader, RequestHeader, Stat, WatcherEvent } from './records.js';

/** Bytes of a Stat on the wire. */
export const STAT_BYTES = 68;
/** Bytes of a RequestHeader. */
export const REQUEST_HEADER_BYTES = 8;
/** Bytes of a ReplyHeader. */
export const REPLY_HEADER_BYTES = 16;
/** Bytes of a MultiHeader. */
export const MULTI_HEADER_BYTES = 9;
/** Smallest ACL on the wire (perms plus two empty strings), used to bound vector counts. */
export const MIN_ACL_BYTES = 12;

const EMPTY_BYTES = new Uint8Array(0);

// ---------------------------------------------------------------- size bounds

/** Upper bound of a ustring's encoded size (3 bytes per UTF-16 unit). */
export function stringBound(s: string | null): number {
  return s === null ? 4 : 4 + s.length * 3;
}

/** Encoded size of a jute buffer. */
export function bufferSize(b: Uint8Array | null): number {
  return b === null ? 4 : 4 + b.length;
}

/** Upper bound of a vector<ustring>'s encoded size. */
export function stringVectorBound(items: readonly string[] | null): number {
  if (items === null) return 4;
  let n = 4 + 4 * items.length;
  for (let i = 0; i < items.length; i++) n += items[i]!.length * 3;
  return n;
}

/** Upper bound of a vector<ACL>'s encoded size. */
export function aclBound(acl: readonly ACL[] | null): number {
  if (acl === null) return 4;
  let n = 4 + 12 * acl.length;
  for (let i = 0; i < acl.length; i++) {
    const id = acl[i]!.id;
    n += (id.scheme.length + id.id.length) * 3;
  }
  return n;
}

// ---------------------------------------------------------------- Id, ACL, Stat

/** Write an Id. */
export function writeId(w: JuteWriter, id: Id): void {
  w.writeString(id.scheme);
  w.writeString(id.id);
}

/** Read an Id (null strings as ''). */
export function readId(r: JuteReader): Id {
  const scheme = r.readString('Id.scheme');
  const id = r.readString('Id.id');
  return { scheme, id };
}

/** Write an ACL entry. */
export function writeACL(w: JuteWriter, acl: ACL): void {
  w.writeInt(acl.perms);
  w.writeString(acl.id.scheme);
  w.writeString(acl.id.id);
}

/** Read an ACL entry. */
export function readACL(r: JuteReader): ACL {
  const perms = r.readInt('ACL.perms');
  return { perms, id: readId(r) };
}

/** Write a vector<ACL>. */
export function writeACLs(w: JuteWriter, acl: readonly ACL[] | null): void {
  w.writeVector(acl, writeACL);
}

/** Read a vector<ACL>; a null vector reads as []. */
export function readACLs(r: JuteReader, what = 'vector<ACL>'): ACL[] {
  return r.readVector(what, MIN_ACL_BYTES, readACL);
}

/** Write a Stat (68 bytes). */
export function writeStat(w: JuteWriter, s: Stat): void {
  w.ensure(STAT_BYTES);
  w.writeZxid(s.czxid);
  w.writeZxid(s.mzxid);
  w.writeZxid(s.ctime);
  w.writeZxid(s.mtime);
  w.writeInt(s.version);
  w.writeInt(s.cversion);
  w.writeInt(s.aversion);
  w.writeLong(s.ephemeralOwner);
  w.writeInt(s.dataLength);
  w.writeInt(s.numChildren);
  w.writeZxid(s.pzxid);
}

/** Read a Stat. */
export function readStat(r: JuteReader): Stat {
  if (r.remaining < STAT_BYTES) throw r.error('Stat', `truncated: need ${STAT_BYTES} bytes, ${r.remaining} left`);
  return {
    czxid: r.readZxid(),
    mzxid: r.readZxid(),
    ctime: r.readZxid(),
    mtime: r.readZxid(),
    version: r.readInt(),
    cversion: r.readInt(),
    aversion: r.readInt(),
    ephemeralOwner: r.readLong(),
    dataLength: r.readInt(),
    numChildren: r.readInt(),
    pzxid: r.readZxid(),
  };
}

// ---------------------------------------------------------------- headers

/** Write a RequestHeader. */
export function writeRequestHeader(w: JuteWriter, h: RequestHeader): void {
  w.writeInt(h.xid);
  w.writeInt(h.type);
}

/** Read a RequestHeader. */
export function readRequestHeader(r: JuteReader): RequestHeader {
  const xid = r.readInt('RequestHeader.xid');
  const type = r.readInt('RequestHeader.type');
  return { xid, type };
}

/** Write a ReplyHeader. */
export function writeReplyHeader(w: JuteWriter, h: ReplyHeader): void {
  w.writeInt(h.xid);
  w.writeZxid(h.zxid);
  w.writeInt(h.err);
}

/** Read a ReplyHeader. */
export function readReplyHeader(r: JuteReader): ReplyHeader {
  const xid = r.readInt('ReplyHeader.xid');
  const zxid = r.readZxid('ReplyHeader.zxid');
  const err = r.readInt('ReplyHeader.err');
  return { xid, zxid, err };
}

/** A MultiHeader (§12.1): one precedes every op and result of multi/multiRead. */
export interface MultiHeader {
  type: number;
  done: boolean;
  err: number;
}

/** Write a MultiHeader. */
export function writeMultiHeader(w: JuteWriter, type: number, done: boolean, err: number): void {
  w.writeInt(type);
  w.writeBool(done);
  w.writeInt(err);
}

/** Read a MultiHeader. */
export function readMultiHeader(r: JuteReader): MultiHeader {
  const type = r.readInt('MultiHeader.type');
  const done = r.readBool('MultiHeader.done');
  const err = r.readInt('MultiHeader.err');
  return { type, done, err };
}

// ---------------------------------------------------------------- WatcherEvent

/** Write a WatcherEvent. */
export function writeWatcherEvent(w: JuteWriter, e: WatcherEvent): void {
  w.writeInt(e.type);
  w.writeInt(e.state);
  w.writeString(e.path);
}

/** Read a WatcherEvent (a null path as ''). */
export function readWatcherEvent(r: JuteReader): WatcherEvent {
  const type = r.readInt('WatcherEvent.type');
  const state = r.readInt('WatcherEvent.state');
  const path = r.readString('WatcherEvent.path');
  return { type, state, path };
}

// ---------------------------------------------------------------- connect handshake

/** Write a ConnectRequest body; the trailing readOnly byte iff `readOnly` is defined (§4.1). */
export function writeConnectRequest(w: JuteWriter, c: ConnectRequest): void {
  w.writeInt(c.protocolVersion);
  w.writeZxid(c.lastZxidSeen);
  w.writeInt(c.timeOut);
  w.writeLong(c.sessionId);
  w.writeBuffer(c.passwd);
  if (c.readOnly !== undefined) w.writeBool(c.readOnly);
}

/** Read a ConnectRequest; `readOnly` is undefined when the trailing byte is absent, a null passwd reads as empty. */
export function readConnectRequest(r: JuteReader): ConnectRequest {
  const protocolVersion = r.readInt('ConnectRequest.protocolVersion');
  const lastZxidSeen = r.readZxid('ConnectRequest.lastZxidSeen');
  const timeOut = r.readInt('ConnectRequest.timeOut');
  const sessionId = r.readLong('ConnectRequest.sessionId');
  const passwd = r.readBuffer('ConnectRequest.passwd') ?? EMPTY_BYTES;
  const readOnly = r.remaining > 0 ? r.readBool('ConnectRequest.readOnly') : undefined;
  return { protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly };
}

/** Encode a ConnectRequest as a whole frame (length prefix included). */
export function encodeConnectRequest(c: ConnectRequest): Uint8Array {
  const w = JuteWriter.forFrame(4 + 24 + bufferSize(c.passwd) + (c.readOnly === undefined ? 0 : 1));
  const at = w.reserveLength();
  writeConnectRequest(w, c);
  w.patchLength(at);
  return w.finish();
}

/** Decode a ConnectRequest frame payload (the first frame of a connection). */
export function decodeConnectRequest(payload: Uint8Array, options?: JuteReaderOptions): ConnectRequest {
  return readConnectRequest(new JuteReader(payload, options));
}

/** Write a ConnectResponse body; the trailing readOnly byte iff `readOnly` is defined (§4.3). */
export function writeConnectResponse(w: JuteWriter, c: ConnectResponse): void {
  w.writeInt(c.protocolVersion);
  w.writeInt(c.timeOut);
  w.writeLong(c.sessionId);
  w.writeBuffer(c.passwd);
  if (c.readOnly !== undefined) w.writeBool(c.readOnly);
}

/** Read a ConnectResponse; `readOnly` is undefined when the trailing byte is absent. */
export function readConnectResponse(r: JuteReader): ConnectResponse {
  const protocolVersion = r.readInt('ConnectResponse.protocolVersion');
  const timeOut = r.readInt('ConnectResponse.timeOut');
  const sessionId = r.readLong('ConnectResponse.sessionId');
  const passwd = r.readBuffer('ConnectResponse.passwd') ?? EMPTY_BYTES;
  const readOnly = r.remaining > 0 ? r.readBool('ConnectResponse.readOnly') : undefined;
  return { protocolVersion, timeOut, sessionId, passwd, readOnly };
}

/** Encode a ConnectResponse as a whole frame. */
export function encodeConnectResponse(c: ConnectResponse): Uint8Array {
  const w = JuteWriter.forFrame(4 + 16 + bufferSize(c.passwd) + (c.readOnly === undefined ? 0 : 1));
  const at = w.reserveLength();
  writeConnectResponse(w, c);
  w.patchLength(at);
  return w.finish();
}

/** Decode a ConnectResponse frame payload. */
export function decodeConnectResponse(payload: Uint8Array, options?: JuteReaderOptions): ConnectResponse {
  return readConnectResponse(new JuteReader(payload, options));
}
