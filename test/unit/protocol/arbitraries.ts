/** fast-check arbitraries for the client-protocol records (shared by the protocol tests). */
import fc from 'fast-check';
import type {
  ACL,
  ClientRequest,
  ConnectRequest,
  ConnectResponse,
  CreateRequest,
  MultiReadOp,
  MultiWriteOp,
  OpResult,
  Stat,
} from '../../../src/protocol/records.js';
import type { ReplyOpCode } from '../../../src/protocol/codec.js';

// Property tests are deterministic: a fixed seed (set FC_SEED to explore others).
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20240601) });

/** fc.record with ordinary prototypes (deepStrictEqual compares prototypes). */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

export const int32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
/** A long as a `number`: every safe integer (the exact range of the zxid form). */
export const zxid = fc.oneof(fc.maxSafeInteger(), fc.constantFrom(-1, 0, 1, 2 ** 32, 2 ** 32 - 1, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53 - 1)));
export const long = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(0n, -1n, -(2n ** 63n), 2n ** 63n - 1n, 0x0100000de4790000n),
);
/** Any valid Unicode text (no lone surrogates, which UTF-8 cannot carry). */
export const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 300 }));
export const path = fc.oneof(text, fc.constantFrom('/', '/zookeeper', '/a/b/c-0000000001', ''));
export const bytes = fc.uint8Array({ maxLength: 80 });
export const nullableBytes = fc.option(bytes, { nil: null });
export const bool = fc.boolean();

export const acl: fc.Arbitrary<ACL> = rec({ perms: int32, id: rec({ scheme: text, id: text }) });
export const acls = fc.array(acl, { maxLength: 4 });

export const stat: fc.Arbitrary<Stat> = rec({
  czxid: zxid,
  mzxid: zxid,
  ctime: zxid,
  mtime: zxid,
  version: int32,
  cversion: int32,
  aversion: int32,
  ephemeralOwner: long,
  dataLength: int32,
  numChildren: int32,
  pzxid: zxid,
});

export const connectRequest: fc.Arbitrary<ConnectRequest> = rec({
  protocolVersion: int32,
  lastZxidSeen: zxid,
  timeOut: int32,
  sessionId: long,
  passwd: bytes,
  readOnly: fc.option(bool, { nil: undefined }),
});

export const connectResponse: fc.Arbitrary<ConnectResponse> = rec({
  protocolVersion: int32,
  timeOut: int32,
  sessionId: long,
  passwd: bytes,
  readOnly: fc.option(bool, { nil: undefined }),
});

const createLike: fc.Arbitrary<CreateRequest> = fc.oneof(
  rec({ type: fc.constantFrom(1 as const, 15 as const, 19 as const), path, data: nullableBytes, acl: acls, flags: int32 }),
  rec({ type: fc.constant(21 as const), path, data: nullableBytes, acl: acls, flags: int32, ttl: zxid }),
);

export const multiWriteOp: fc.Arbitrary<MultiWriteOp> = fc.oneof(
  createLike,
  rec({ type: fc.constant(2 as const), path, version: int32 }),
  rec({ type: fc.constant(5 as const), path, data: nullableBytes, version: int32 }),
  rec({ type: fc.constant(13 as const), path, version: int32 }),
);

export const multiReadOp: fc.Arbitrary<MultiReadOp> = rec({ type: fc.constantFrom(4 as const, 8 as const), path });

const strings = fc.array(path, { maxLength: 5 });

/** Every request type (setWatches 101 with empty persistent lists, as it decodes). */
export const request: fc.Arbitrary<ClientRequest> = fc.oneof(
  createLike,
  rec({ type: fc.constantFrom(2 as const, 13 as const), path, version: int32 }),
  rec({ type: fc.constantFrom(3 as const, 4 as const, 8 as const, 12 as const), path, watch: bool }),
  rec({ type: fc.constant(5 as const), path, data: nullableBytes, version: int32 }),
  rec({ type: fc.constantFrom(6 as const, 9 as const, 104 as const), path }),
  rec({ type: fc.constant(7 as const), path, acl: acls, version: int32 }),
  rec({ type: fc.constant(14 as const), ops: fc.array(multiWriteOp, { maxLength: 5 }) }),
  rec({ type: fc.constant(22 as const), ops: fc.array(multiReadOp, { maxLength: 5 }) }),
  rec({
    type: fc.constant(16 as const),
    joiningServers: fc.option(text, { nil: null }),
    leavingServers: fc.option(text, { nil: null }),
    newMembers: fc.option(text, { nil: null }),
    curConfigId: long,
  }),
  rec({ type: fc.constantFrom(17 as const, 18 as const), path, watcherType: int32 }),
  rec({ type: fc.constant(100 as const), authType: int32, scheme: text, auth: nullableBytes }),
  rec({
    type: fc.constant(101 as const),
    relativeZxid: zxid,
    dataWatches: strings,
    existWatches: strings,
    childWatches: strings,
    persistentWatches: fc.constant<string[]>([]),
    persistentRecursiveWatches: fc.constant<string[]>([]),
  }),
  rec({
    type: fc.constant(105 as const),
    relativeZxid: zxid,
    dataWatches: strings,
    existWatches: strings,
    childWatches: strings,
    persistentWatches: strings,
    persistentRecursiveWatches: strings,
  }),
  rec({ type: fc.constant(102 as const), token: nullableBytes }),
  rec({ type: fc.constant(103 as const), prefixPath: path }),
  rec({ type: fc.constant(106 as const), path, mode: int32 }),
  rec({ type: fc.constantFrom(11 as const, -11 as const, 107 as const) }),
);

export const opResult: fc.Arbitrary<OpResult> = fc.oneof(
  rec({ type: fc.constant(1 as const), path }),
  rec({ type: fc.constant(15 as const), path, stat }),
  rec({ type: fc.constantFrom(2 as const, 13 as const) }),
  rec({ type: fc.constant(5 as const), stat }),
  rec({ type: fc.constant(4 as const), data: nullableBytes, stat }),
  rec({ type: fc.constant(8 as const), children: strings }),
  rec({ type: fc.constant(-1 as const), err: int32 }),
);

/** An opcode with a reply body of the right shape for it. */
export const reply: fc.Arbitrary<{ opcode: ReplyOpCode; response: unknown }> = fc.oneof(
  rec({ opcode: fc.constantFrom(1 as const, 9 as const), response: rec({ path }) }),
  rec({ opcode: fc.constantFrom(15 as const, 19 as const, 21 as const), response: rec({ path, stat }) }),
  rec({ opcode: fc.constantFrom(3 as const, 5 as const, 7 as const), response: rec({ stat }) }),
  rec({ opcode: fc.constantFrom(4 as const, 16 as const), response: rec({ data: nullableBytes, stat }) }),
  rec({ opcode: fc.constant(6 as const), response: rec({ acl: acls, stat }) }),
  rec({ opcode: fc.constant(8 as const), response: rec({ children: strings }) }),
  rec({ opcode: fc.constant(12 as const), response: rec({ children: strings, stat }) }),
  rec({ opcode: fc.constantFrom(14 as const, 22 as const), response: rec({ results: fc.array(opResult, { maxLength: 5 }) }) }),
  rec({ opcode: fc.constant(102 as const), response: rec({ token: nullableBytes }) }),
  rec({ opcode: fc.constant(103 as const), response: rec({ ephemerals: strings }) }),
  rec({ opcode: fc.constant(104 as const), response: rec({ totalNumber: int32 }) }),
  rec({ opcode: fc.constant(106 as const), response: rec({ err: int32 }) }),
  rec({
    opcode: fc.constant(107 as const),
    response: rec({ clientInfo: fc.array(rec({ authScheme: text, user: text }), { maxLength: 3 }) }),
  }),
  rec({
    opcode: fc.constantFrom(2 as const, 11 as const, 13 as const, 17 as const, 18 as const, 100 as const, 101 as const, 105 as const, -11 as const),
    response: fc.constant(undefined),
  }),
);

/** Every opcode `decodeResponse` knows. */
export const REPLY_OPCODES: readonly ReplyOpCode[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 100, 101, 102, 103, 104, 105, 106, 107, -11,
];

/** Hex of bytes, for readable byte-exact assertions. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Bytes from hex with spaces allowed. */
export function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}
