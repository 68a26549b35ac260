import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { DecodeError } from '../../../src/protocol/errors.js';
import {
  decodePeerBatch,
  decodePeerBatches,
  decodePlain,
  encodePeerBatch,
  encodePeerBatches,
  encodePlain,
  isPeerMessageType,
  PEER_CODEC_VERSION,
  PEER_MESSAGE_TYPES,
} from '../../../src/protocol/peer-codec.js';
import type { PeerMessage } from '../../../src/protocol/peer.js';
import { allSampleMessages, sampleMessages } from './fixtures/messages.js';

const key = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((k) => k !== '__proto__');
const { plain } = fc.letrec<{ plain: unknown }>((tie) => ({
  plain: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.integer(),
    fc.integer({ min: 0, max: 200 }),
    fc.double(),
    fc.maxSafeInteger(),
    fc.bigInt(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.constantFrom('type', 'zxid', 'ack', 'é', ''),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('plain'), { maxLength: 6 }),
    fc.dictionary(key, tie('plain'), { maxKeys: 6, noNullPrototype: true }),
  ),
}));

test('the type list is complete and exported in one place', () => {
  assert.deepEqual([...PEER_MESSAGE_TYPES].sort(), Object.keys(sampleMessages).sort());
  assert.ok(isPeerMessageType('ack'));
  assert.ok(!isPeerMessageType('toString'));
  assert.ok(!isPeerMessageType(3));
});

test('every peer message type round-trips, alone and in one batch', () => {
  for (const m of allSampleMessages) assert.deepEqual(decodePeerBatch(encodePeerBatch([m])), [m]);
  const bytes = encodePeerBatch(allSampleMessages);
  assert.equal(bytes[0], PEER_CODEC_VERSION);
  assert.deepEqual(decodePeerBatch(bytes), allSampleMessages);
  assert.deepEqual(decodePeerBatch(encodePeerBatch([])), []);
});

test('property: random plain-data trees round-trip', () => {
  fc.assert(
    fc.property(plain, (v) => {
      assert.deepEqual(decodePlain(encodePlain(v)), v);
    }),
    { numRuns: 500 },
  );
});

test('property: batches of random peer messages round-trip', () => {
  const message = fc.constantFrom(...allSampleMessages);
  const extra = fc.dictionary(key.filter((k) => k !== 'type'), plain, { maxKeys: 3, noNullPrototype: true });
  const msg = fc.tuple(message, extra).map(([m, x]) => ({ ...x, ...m }) as PeerMessage);
  fc.assert(
    fc.property(fc.array(msg, { maxLength: 40 }), (batch) => {
      assert.deepEqual(decodePeerBatch(encodePeerBatch(batch)), batch);
    }),
    { numRuns: 300 },
  );
});

test('compact: interned keys and small ints', () => {
  const batch: PeerMessage[] = Array.from({ length: 64 }, (_, i) => ({ type: 'ack', zxid: 2 ** 32 + i }));
  const bytes = encodePeerBatch(batch);
  // First message spells out "type", "ack", "zxid"; each later one is 14 bytes: tag, count, three string refs, a 6-byte integer.
  assert.ok(bytes.length <= 64 * 14 + 16, `${bytes.length} bytes`);
  assert.deepEqual(decodePeerBatch(bytes), batch);
});

test('a frame prefix is reserved when asked', () => {
  const bytes = encodePeerBatch([{ type: 'upToDate' }], 4);
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0, 0, 0]);
  assert.deepEqual(decodePeerBatch(bytes.subarray(4)), [{ type: 'upToDate' }]);
});

test('encoding rejects values outside the plain-data model', () => {
  assert.throws(() => encodePlain(new Date()), TypeError);
  assert.throws(() => encodePlain(new Map()), TypeError);
  assert.throws(() => encodePlain(() => 1), TypeError);
  assert.throws(() => encodePlain(Symbol('x')), TypeError);
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = [deep];
  assert.throws(() => encodePlain(deep), TypeError);
});

function decodeError(bytes: Uint8Array | number[], pattern?: RegExp): void {
  const input = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  assert.throws(() => decodePeerBatch(input), (err: unknown) => err instanceof DecodeError && (!pattern || pattern.test(err.message)));
}

test('malformed input: each kind is a DecodeError with a reason', () => {
  decodeError([], /truncated/);
  decodeError([2, 0], /version/);
  decodeError([1, 1, 0x0c, 1, 0x08, 4, 0x74, 0x79, 0x70, 0x65, 0x08, 3, 0x66, 0x6f, 0x6f], /unknown type/);
  decodeError([1, 1, 0x0b, 0], /not an object/);
  decodeError([1, 1, 0x0c, 0], /unknown type/); // an object without `type`
  decodeError([1, 1, 0x0c, 1, 0x08, 1, 0x61, 0x3f], /unknown tag/);
  decodeError([1, 1, 0x0c, 1, 0x09, 0, 0x00], /out of range/);
  decodeError([1, 1, 0x0c, 1, 0x04, 0x00], /object key/);
  decodeError([1, 0xff, 0xff, 0xff, 0xff, 0x0f], /count/); // 4G messages in 6 bytes
  decodeError([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /varuint/);
  decodeError([1, 1, 0x0c, 1, 0x08, 4, 0x74, 0x79, 0x70, 0x65, 0x0a, 0xff, 0xff, 0xff, 0x7f], /truncated/); // 256 MB Uint8Array claimed
  decodeError([1, 1, 0x0c, 1, 0x08, 9, 0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f, 0x00], /__proto__/);
  decodeError([1, 1, 0x0c, 1, 0x08, 2, 0xc3, 0x28, 0x00], /UTF-8/);
  decodeError([1, 1, 0x0c, 1, 0x08, 1, 0x61, 0x07, 0x00, 0x7f], /bigint/);
  decodeError([1, 1, 0x0c, 1, 0x08, 1, 0x61, 0x07, 0x02, 0x00], /sign/);
  const ok = encodePeerBatch([{ type: 'upToDate' }]);
  decodeError([...ok, 0], /trailing/);
  let nested = [0x80];
  for (let i = 0; i < 100; i++) nested = [0x0b, 1, ...nested];
  decodeError([1, 1, 0x0c, 1, 0x08, 1, 0x61, ...nested], /too deep/);
  assert.throws(() => decodePeerBatch(encodePeerBatch(allSampleMessages), { maxBytes: 10 }), DecodeError);
  assert.throws(() => decodePeerBatch(encodePeerBatch(allSampleMessages), { maxValues: 10 }), DecodeError);
  assert.throws(() => decodePeerBatch(encodePeerBatch(allSampleMessages), { maxMessages: 2 }), DecodeError);
});

test('property: random, mutated and truncated bytes throw only DecodeError', () => {
  const valid = encodePeerBatch(allSampleMessages);
  const check = (bytes: Uint8Array): void => {
    try {
      decodePeerBatch(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => check(Uint8Array.of(1, ...b))), { numRuns: 2000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => check(b)), { numRuns: 500 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
      const bytes = valid.slice();
      for (const [at, b] of edits) bytes[at] = b;
      check(bytes);
    }),
    { numRuns: 2000 },
  );
  for (let cut = 0; cut < valid.length; cut++) check(valid.subarray(0, cut));
  for (let cut = 0; cut < valid.length; cut++) assert.throws(() => decodePeerBatch(valid.subarray(0, cut)), DecodeError);
});

test('decoded Uint8Arrays are copies, not views into the frame', () => {
  const bytes = encodePeerBatch(sampleMessages.snap);
  const [m] = decodePeerBatch(bytes) as unknown as [{ chunk: Uint8Array }];
  assert.equal(m.chunk.byteOffset, 0);
  assert.equal(m.chunk.buffer.byteLength, m.chunk.length);
});

test('decoding from a Buffer yields plain Uint8Arrays that do not alias it', () => {
  const frame = Buffer.from(encodePeerBatch(sampleMessages.snap));
  const [m] = decodePeerBatch(frame) as unknown as [{ chunk: Uint8Array }];
  assert.equal(Object.getPrototypeOf(m.chunk), Uint8Array.prototype);
  const before = m.chunk[5];
  frame.fill(0);
  assert.equal(m.chunk[5], before);
});

test('several batches in one buffer round-trip and are checked like one', () => {
  const batches: PeerMessage[][] = [allSampleMessages, [], [{ type: 'upToDate' }], sampleMessages.proposal];
  assert.deepEqual(decodePeerBatches(encodePeerBatches(batches)), batches);
  assert.deepEqual(decodePeerBatches(encodePeerBatches([])), []);
  const bytes = encodePeerBatches(batches);
  assert.throws(() => decodePeerBatches(bytes, { maxMessages: allSampleMessages.length }), DecodeError);
  for (let cut = 0; cut < bytes.length; cut++) assert.throws(() => decodePeerBatches(bytes.subarray(0, cut)), DecodeError);
  assert.throws(() => decodePeerBatches(Uint8Array.of(1, 1, 1, 0x0b, 0)), /not an object/);
});
