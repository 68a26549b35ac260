/**
 * Server → client replies (reference §5, §6, §8.4, §12.1): `encodeReply` builds a whole
 * frame (length prefix, ReplyHeader, body) and `decodeResponse` parses the body for a
 * known opcode on the client side.
 *
 * Rules encoded here: a reply with `err != 0` is header-only (§5.1); opcodes without a
 * reply body (delete, ping, check, check/removeWatches, auth, setWatches(2),
 * closeSession) are header-only; addWatch always carries `ErrorResponse{0}`; multi and
 * multiRead answer `err 0` plus per-op results and the terminator `{-1, true, -1}`.
 */
import { OpCode } from './constants.js';
import { JuteReader, JuteWriter } from './jute.js';
import {
  MULTI_HEADER_BYTES,
  REPLY_HEADER_BYTES,
  STAT_BYTES,
  aclBound,
  bufferSize,
  readACLs,
  readMultiHeader,
  readStat,
  stringBound,
  stringVectorBound,
  writeACLs,
  writeMultiHeader,
  writeReplyHeader,
  writeStat,
  writeWatcherEvent,
} from './codec-records.js';
import type {
  Create2Response,
  CreateResponse,
  ErrorResponse,
  GetACLResponse,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataResponse,
  GetEphemeralsResponse,
  MultiResponse,
  OpResult,
  ReplyHeader,
  SaslResponse,
  StatResponse,
  SyncResponse,
  WatcherEvent,
  WhoAmIResponse,
} from './records.js';

/** The reply body of each opcode on success (`undefined`: header only). */
export interface ResponseByOpCode {
  [OpCode.create]: CreateResponse;
  [OpCode.delete]: undefined;
  [OpCode.exists]: StatResponse;
  [OpCode.getData]: GetDataResponse;
  [OpCode.setData]: StatResponse;
  [OpCode.getACL]: GetACLResponse;
  [OpCode.setACL]: StatResponse;
  [OpCode.getChildren]: GetChildrenResponse;
  [OpCode.sync]: SyncResponse;
  [OpCode.ping]: undefined;
  [OpCode.getChildren2]: GetChildren2Response;
  [OpCode.check]: undefined;
  [OpCode.multi]: MultiResponse;
  [OpCode.create2]: Create2Response;
  [OpCode.reconfig]: GetDataResponse;
  [OpCode.checkWatches]: undefined;
  [OpCode.removeWatches]: undefined;
  [OpCode.createContainer]: Create2Response;
  [OpCode.createTTL]: Create2Response;
  [OpCode.multiRead]: MultiResponse;
  [OpCode.auth]: undefined;
  [OpCode.setWatches]: undefined;
  [OpCode.sasl]: SaslResponse;
  [OpCode.getEphemerals]: GetEphemeralsResponse;
  [OpCode.getAllChildrenNumber]: GetAllChildrenNumberResponse;
  [OpCode.setWatches2]: undefined;
  [OpCode.addWatch]: ErrorResponse;
  [OpCode.whoAmI]: WhoAmIResponse;
  [OpCode.closeSession]: undefined;
}

/** An opcode a reply can answer. */
export type ReplyOpCode = keyof ResponseByOpCode;

/** The reply body type of opcode `Op`. */
export type ResponseOf<Op extends ReplyOpCode> = ResponseByOpCode[Op];

/** Any reply body. */
export type AnyResponse = Exclude<ResponseByOpCode[ReplyOpCode], undefined>;

// ---------------------------------------------------------------- size bounds

function opResultBound(res: OpResult): number {
  switch (res.type) {
    case OpCode.create:
      return stringBound(res.path);
    case OpCode.create2:
      return stringBound(res.path) + STAT_BYTES;
    case OpCode.setData:
      return STAT_BYTES;
    case OpCode.getData:
      return bufferSize(res.data) + STAT_BYTES;
    case OpCode.getChildren:
      return stringVectorBound(res.children);
    case OpCode.error:
      return 4;
    default:
      return 0;
  }
}

/** An upper bound of the encoded size of `response` as the body of opcode `opcode`. */
export function responseBodyBound(opcode: number, response: unknown): number {
  switch (opcode) {
    case OpCode.create:
    case OpCode.sync:
      return stringBound((response as CreateResponse).path);
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return stringBound((response as Create2Response).path) + STAT_BYTES;
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
      return STAT_BYTES;
    case OpCode.getData:
    case OpCode.reconfig:
      return bufferSize((response as GetDataResponse).data) + STAT_BYTES;
    case OpCode.getACL:
      return aclBound((response as GetACLResponse).acl) + STAT_BYTES;
    case OpCode.getChildren:
      return stringVectorBound((response as GetChildrenResponse).children);
    case OpCode.getChildren2:
      return stringVectorBound((response as GetChildren2Response).children) + STAT_BYTES;
    case OpCode.multi:
    case OpCode.multiRead: {
      const results = (response as MultiResponse).results;
      let n = MULTI_HEADER_BYTES * (results.length + 1);
      for (let i = 0; i < results.length; i++) n += opResultBound(results[i]!);
      return n;
    }
    case OpCode.sasl:
      return bufferSize((response as SaslResponse).token);
    case OpCode.getEphemerals:
      return stringVectorBound((response as GetEphemeralsResponse).ephemerals);
    case OpCode.whoAmI: {
      const infos = (response as WhoAmIResponse).clientInfo;
      let n = 4;
      for (const info of infos) n += stringBound(info.authScheme) + stringBound(info.user);
      return n;
    }
    default:
      return 4; // getAllChildrenNumber, addWatch; 0 would do for header-only opcodes
  }
}

// ---------------------------------------------------------------- encoding

/** Write one multi/multiRead result: MultiHeader (error code in `err` for type -1) then its record. */
export function writeOpResult(w: JuteWriter, res: OpResult): void {
  switch (res.type) {
    case OpCode.create:
      writeMultiHeader(w, res.type, false, 0);
      w.writeString(res.path);
      return;
    case OpCode.create2:
      writeMultiHeader(w, res.type, false, 0);
      w.writeString(res.path);
      writeStat(w, res.stat);
      return;
    case OpCode.delete:
    case OpCode.check:
      writeMultiHeader(w, res.type, false, 0);
      return;
    case OpCode.setData:
      writeMultiHeader(w, res.type, false, 0);
      writeStat(w, res.stat);
      return;
    case OpCode.getData:
      writeMultiHeader(w, res.type, false, 0);
      w.writeBuffer(res.data);
      writeStat(w, res.stat);
      return;
    case OpCode.getChildren:
      writeMultiHeader(w, res.type, false, 0);
      w.writeStringVector(res.children);
      return;
    case OpCode.error:
      // The code goes in the header and again in the ErrorResponse body (§12.1).
      writeMultiHeader(w, res.type, false, res.err);
      w.writeInt(res.err);
      return;
  }
}

function requireBody<T>(response: T | undefined, opcode: number): T {
  if (response === undefined) throw new TypeError(`a successful reply to opcode ${opcode} needs a body`);
  return response;
}

/**
 * Write the success body of `opcode` (nothing for header-only opcodes; `ErrorResponse`
 * for addWatch, 4 zero bytes when `response` is omitted). Throws TypeError if a body is
 * required and missing, or the opcode is not one a reply answers.
 */
export function writeResponseBody(w: JuteWriter, opcode: number, response: unknown): void {
  switch (opcode) {
    case OpCode.create:
    case OpCode.sync:
      w.writeString(requireBody(response as CreateResponse | undefined, opcode).path);
      return;
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL: {
      const res = requireBody(response as Create2Response | undefined, opcode);
      w.writeString(res.path);
      writeStat(w, res.stat);
      return;
    }
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
      writeStat(w, requireBody(response as StatResponse | undefined, opcode).stat);
      return;
    case OpCode.getData:
    case OpCode.reconfig: {
      const res = requireBody(response as GetDataResponse | undefined, opcode);
      w.writeBuffer(res.data);
      writeStat(w, res.stat);
      return;
    }
    case OpCode.getACL: {
      const res = requireBody(response as GetACLResponse | undefined, opcode);
      writeACLs(w, res.acl);
      writeStat(w, res.stat);
      return;
    }
    case OpCode.getChildren:
      w.writeStringVector(requireBody(response as GetChildrenResponse | undefined, opcode).children);
      return;
    case OpCode.getChildren2: {
      const res = requireBody(response as GetChildren2Response | undefined, opcode);
      w.writeStringVector(res.children);
      writeStat(w, res.stat);
      return;
    }
    case OpCode.multi:
    case OpCode.multiRead: {
      const results = requireBody(response as MultiResponse | undefined, opcode).results;
      for (let i = 0; i < results.length; i++) writeOpResult(w, results[i]!);
      writeMultiHeader(w, -1, true, -1);
      return;
    }
    case OpCode.sasl:
      w.writeBuffer(requireBody(response as SaslResponse | undefined, opcode).token);
      return;
    case OpCode.getEphemerals:
      w.writeStringVector(requireBody(response as GetEphemeralsResponse | undefined, opcode).ephemerals);
      return;
    case OpCode.getAllChildrenNumber:
      w.writeInt(requireBody(response as GetAllChildrenNumberResponse | undefined, opcode).totalNumber);
      return;
    case OpCode.addWatch:
      w.writeInt((response as ErrorResponse | undefined)?.err ?? 0);
      return;
    case OpCode.whoAmI: {
      const infos = requireBody(response as WhoAmIResponse | undefined, opcode).clientInfo;
      w.writeInt(infos.length);
      for (const info of infos) {
        w.writeString(info.authScheme);
        w.writeString(info.user);
      }
      return;
    }
    case OpCode.delete:
    case OpCode.ping:
    case OpCode.check:
    case OpCode.checkWatches:
    case OpCode.removeWatches:
    case OpCode.auth:
    case OpCode.setWatches:
    case OpCode.setWatches2:
    case OpCode.closeSession:
      return;
    default:
      throw new TypeError(`no reply body is defined for opcode ${opcode}`);
  }
}

/**
 * Append a whole reply frame to `w`: header only if `header.err != 0` or the opcode has
 * no body, else header plus the body of `opcode`. Pass `xid -2` for ping replies (§5.3).
 */
export function writeReply<Op extends ReplyOpCode>(w: JuteWriter, header: ReplyHeader, opcode: Op, response?: ResponseOf<Op>): void {
  w.ensure(replyBound(header, opcode, response));
  writeReplyFrame(w, header, opcode, response);
}

function replyBound(header: ReplyHeader, opcode: number, response: unknown): number {
  return 4 + REPLY_HEADER_BYTES + (header.err === 0 ? responseBodyBound(opcode, response) : 0);
}

function writeReplyFrame(w: JuteWriter, header: ReplyHeader, opcode: number, response: unknown): void {
  const at = w.reserveLength();
  writeReplyHeader(w, header);
  if (header.err === 0) writeResponseBody(w, opcode, response);
  w.patchLength(at);
}

/** Encode a reply as a whole frame (see `writeReply`). A successful getData reply is one allocation. */
export function encodeReply<Op extends ReplyOpCode>(header: ReplyHeader, opcode: Op, response?: ResponseOf<Op>): Uint8Array {
  const w = JuteWriter.forFrame(replyBound(header, opcode, response));
  writeReplyFrame(w, header, opcode, response);
  return w.finish();
}

/** Encode a header-only reply (errors, and bodiless successes). */
export function encodeHeaderReply(xid: number, zxid: number, err: number): Uint8Array {
  const w = JuteWriter.forFrame(4 + REPLY_HEADER_BYTES);
  const at = w.reserveLength();
  writeReplyHeader(w, { xid, zxid, err });
  w.patchLength(at);
  return w.finish();
}

/** Append a watch notification frame: `ReplyHeader{-1, zxid, 0}` + WatcherEvent (§8.4; zxid is -1 in 3.8). */
export function writeNotification(w: JuteWriter, event: WatcherEvent, zxid = -1): void {
  w.ensure(4 + REPLY_HEADER_BYTES + 8 + stringBound(event.path));
  const at = w.reserveLength();
  w.writeInt(-1);
  w.writeZxid(zxid);
  w.writeInt(0);
  writeWatcherEvent(w, event);
  w.patchLength(at);
}

/** Encode a watch notification frame. */
export function encodeNotification(event: WatcherEvent, zxid = -1): Uint8Array {
  const w = JuteWriter.forFrame(4 + REPLY_HEADER_BYTES + 8 + stringBound(event.path));
  writeNotification(w, event, zxid);
  return w.finish();
}

// ---------------------------------------------------------------- decoding

function readCreate2(r: JuteReader): Create2Response {
  const path = r.readString('Create2Response.path');
  return { path, stat: readStat(r) };
}

function readGetData(r: JuteReader): GetDataResponse {
  const data = r.readBuffer('GetDataResponse.data');
  return { data, stat: readStat(r) };
}

/** Read one multi/multiRead result after its header; throws DecodeError for an unknown result type. */
function readOpResult(r: JuteReader, type: number): OpResult {
  switch (type) {
    case OpCode.create:
      return { type, path: r.readString('CreateResponse.path') };
    case OpCode.create2: {
      const { path, stat } = readCreate2(r);
      return { type, path, stat };
    }
    case OpCode.delete:
    case OpCode.check:
      return { type };
    case OpCode.setData:
      return { type, stat: readStat(r) };
    case OpCode.getData: {
      const { data, stat } = readGetData(r);
      return { type, data, stat };
    }
    case OpCode.getChildren:
      return { type, children: r.readStringVector('GetChildrenResponse.children') };
    case OpCode.error:
      // The body's code is authoritative, as in Java's MultiResponse.
      return { type, err: r.readInt('ErrorResponse.err') };
    default:
      throw r.error('MultiResponse', `invalid result type ${type}`);
  }
}

/** Read a MultiResponse body (results up to the done header). */
export function readMultiResponse(r: JuteReader): MultiResponse {
  const results: OpResult[] = [];
  for (;;) {
    const h = readMultiHeader(r);
    if (h.done) return { results };
    results.push(readOpResult(r, h.type));
  }
}

/**
 * Read the success body of a reply to `opcode` (call only when the header's err is 0).
 * Returns undefined for header-only opcodes. Throws DecodeError on malformed bytes or an
 * opcode no reply answers.
 */
export function decodeResponse<Op extends ReplyOpCode>(opcode: Op, r: JuteReader): ResponseOf<Op>;
export function decodeResponse(opcode: number, r: JuteReader): AnyResponse | undefined;
export function decodeResponse(opcode: number, r: JuteReader): AnyResponse | undefined {
  switch (opcode) {
    case OpCode.create:
      return { path: r.readString('CreateResponse.path') };
    case OpCode.sync:
      return { path: r.readString('SyncResponse.path') };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return readCreate2(r);
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
      return { stat: readStat(r) };
    case OpCode.getData:
    case OpCode.reconfig:
      return readGetData(r);
    case OpCode.getACL: {
      const acl = readACLs(r, 'GetACLResponse.acl');
      return { acl, stat: readStat(r) };
    }
    case OpCode.getChildren:
      return { children: r.readStringVector('GetChildrenResponse.children') };
    case OpCode.getChildren2: {
      const children = r.readStringVector('GetChildren2Response.children');
      return { children, stat: readStat(r) };
    }
    case OpCode.multi:
    case OpCode.multiRead:
      return readMultiResponse(r);
    case OpCode.sasl:
      return { token: r.readBuffer('SetSASLResponse.token') };
    case OpCode.getEphemerals:
      return { ephemerals: r.readStringVector('GetEphemeralsResponse.ephemerals') };
    case OpCode.getAllChildrenNumber:
      return { totalNumber: r.readInt('GetAllChildrenNumberResponse.totalNumber') };
    case OpCode.addWatch:
      return { err: r.readInt('ErrorResponse.err') };
    case OpCode.whoAmI: {
      const clientInfo = r.readVector('WhoAmIResponse.clientInfo', 8, readClientInfo);
      return { clientInfo };
    }
    case OpCode.delete:
    case OpCode.ping:
    case OpCode.check:
    case OpCode.checkWatches:
    case OpCode.removeWatches:
    case OpCode.auth:
    case OpCode.setWatches:
    case OpCode.setWatches2:
    case OpCode.closeSession:
      return undefined;
    default:
      throw r.error('reply', `no reply body is defined for opcode ${opcode}`);
  }
}

function readClientInfo(r: JuteReader): { authScheme: string; user: string } {
  const authScheme = r.readString('ClientInfo.authScheme');
  return { authScheme, user: r.readString('ClientInfo.user') };
}
