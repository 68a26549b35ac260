/**
 * Hostile input: random bytes, truncations, mutations and huge lengths fed to every
 * decoder must end in a value or a typed error (DecodeError / UnknownOpcodeError), never
 * another exception, a hang or a huge allocation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FrameDecoder,
  JuteReader,
  RequestDecodeError,
  UnknownOpcodeError,
  decodeConnectRequest,
  decodeConnectResponse,
  decodeRequest,
  decodeResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeReply,
  encodeRequest,
  readReplyHeader,
  readWatcherEvent,
} from '../../../src/protocol/codec.js';
import type { JuteReaderOptions } from '../../../src/protocol/codec.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import { REPLY_OPCODES, connectRequest, connectResponse, reply, request } from './arbitraries.js';

/** Run `fn`; only the codec's typed errors may escape it. */
function typedOnly(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof DecodeError || e instanceof UnknownOpcodeError) return;
    throw e;
  }
}

/** Every decoder applied to one payload. */
function decodeAll(payload: Uint8Array, options?: JuteReaderOptions): void {
  typedOnly(() => {
    try {
      decodeRequest(payload, options);
    } catch (e) {
      // With a readable header the error carries the request's xid.
      if ((e instanceof RequestDecodeError || e instanceof UnknownOpcodeError) && payload.length >= 8) {
        assert.equal(e.xid, new DataView(payload.buffer, payload.byteOffset).getInt32(0));
      }
      throw e;
    }
  });
  typedOnly(() => decodeConnectRequest(payload, options));
  typedOnly(() => decodeConnectResponse(payload, options));
  typedOnly(() => {
    const r = new JuteReader(payload, options);
    readReplyHeader(r);
    readWatcherEvent(r);
  });
  for (const opcode of REPLY_OPCODES) typedOnly(() => decodeResponse(opcode, new JuteReader(payload, options)));
  typedOnly(() => {
    const frames = new FrameDecoder(options);
    frames.push(payload);
    while (frames.next() !== undefined);
  });
}

/** Valid payloads (no length prefix) of every kind. */
const validPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(fc.integer(), request).map(([xid, req]) => encodeRequest(xid, req).subarray(4)),
  reply.map(({ opcode, response }) => encodeReply({ xid: 1, zxid: 2, err: 0 }, opcode, response as never).subarray(4 + 16)),
  connectRequest.map((c) => encodeConnectRequest(c).subarray(4)),
  connectResponse.map((c) => encodeConnectResponse(c).subarray(4)),
);

test('random bytes never throw anything but the typed errors', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => decodeAll(bytes)), { numRuns: 400 });
  // Biased toward the interesting prefixes: a plausible header then noise.
  const header = fc.tuple(fc.integer(), fc.constantFrom(...REPLY_OPCODES, 0, 20, 55));
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 120 }), ([xid, type], tail) => {
      const payload = new Uint8Array(8 + tail.length);
      new DataView(payload.buffer).setInt32(0, xid);
      new DataView(payload.buffer).setInt32(4, type);
      payload.set(tail, 8);
      decodeAll(payload);
    }),
    { numRuns: 400 },
  );
});

test('every truncation of a valid payload decodes or throws a typed error', () => {
  fc.assert(
    fc.property(validPayload, (payload) => {
      for (let cut = 0; cut <= payload.length; cut++) decodeAll(payload.subarray(0, cut));
    }),
    { numRuns: 60 },
  );
});

test('mutated valid payloads decode or throw a typed error', () => {
  fc.assert(
    fc.property(validPayload, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (payload, edits) => {
      const copy = new Uint8Array(payload);
      for (const [at, value] of edits) if (copy.length > 0) copy[at % copy.length] = value;
      decodeAll(copy);
    }),
    { numRuns: 300 },
  );
});

test('lengths and counts near 2^31 fail fast without allocating, even with a huge maxBuffer', () => {
  const before = process.memoryUsage().arrayBuffers;
  const hugeValues = [0x7fffffff, 0x7ffffff0, 0x40000000, 0x80000000, 0xfffffffe, 0x00100000];
  fc.assert(
    fc.property(validPayload, fc.nat(), fc.constantFrom(...hugeValues), (payload, seed, huge) => {
      if (payload.length < 4) return;
      const copy = new Uint8Array(payload);
      new DataView(copy.buffer).setUint32(seed % (copy.length - 3), huge);
      decodeAll(copy);
      decodeAll(copy, { maxBuffer: 2 ** 31 - 1 });
    }),
    { numRuns: 300 },
  );
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.equal(grown < 256 * 1024 * 1024, true, `array buffers grew by ${grown} bytes`);
});

test('a vector count of 2^31 - 1 in a request body is rejected as a RequestDecodeError', () => {
  const payload = new Uint8Array(8 + 8 + 4 + 16);
  const view = new DataView(payload.buffer);
  view.setInt32(0, 77);
  view.setInt32(4, 105); // setWatches2
  view.setInt32(16, 0x7fffffff); // dataWatches count
  assert.throws(() => decodeRequest(payload, { maxBuffer: 2 ** 31 - 1 }), (e: unknown) => e instanceof RequestDecodeError && e.xid === 77);
});
