import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FOUR_LETTER_WORDS,
  FrameDecoder,
  TELNET_CLOSE,
  fourLetterWordArgumentBytes,
  fourLetterWordOf,
} from '../../../src/protocol/frame.js';
import { DEFAULT_MAX_BUFFER } from '../../../src/protocol/constants.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import { hex, unhex } from './arbitraries.js';

function frameStream(payloads: Uint8Array[]): Uint8Array {
  const total = payloads.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const p of payloads) {
    view.setInt32(pos, p.length);
    out.set(p, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}

function drain(decoder: FrameDecoder, out: string[]): void {
  for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) out.push(hex(frame));
}

test('frames split and merged arbitrarily come out whole and in order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (payloads, cutSeeds) => {
        const stream = frameStream(payloads);
        const cuts = [...new Set(cutSeeds.map((c) => (stream.length === 0 ? 0 : c % (stream.length + 1))))].sort((a, b) => a - b);
        const bounds = [0, ...cuts, stream.length];
        const decoder = new FrameDecoder();
        const out: string[] = [];
        for (let i = 0; i + 1 < bounds.length; i++) {
          decoder.push(stream.subarray(bounds[i], bounds[i + 1]));
          drain(decoder, out);
        }
        assert.deepEqual(out, payloads.map(hex));
        assert.equal(decoder.buffered, 0);
      },
    ),
  );
});

test('pushing without draining still yields every frame (leftovers are concatenated)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 8 }), fc.integer({ min: 1, max: 17 }), (payloads, step) => {
      const stream = frameStream(payloads);
      const decoder = new FrameDecoder();
      const out: string[] = [];
      for (let pos = 0; pos < stream.length; pos += step) {
        decoder.push(stream.subarray(pos, pos + step));
        const frame = decoder.next(); // take at most one frame per chunk
        if (frame !== undefined) out.push(hex(frame));
      }
      drain(decoder, out);
      assert.deepEqual(out, payloads.map(hex));
    }),
  );
});

test('a frame inside one chunk is a view of it; only a frame spanning chunks is copied', () => {
  const stream = frameStream([unhex('0102'), unhex('030405')]);
  const decoder = new FrameDecoder();
  decoder.push(stream.subarray(0, 11));
  const first = decoder.next()!;
  assert.equal(first.buffer, stream.buffer, 'zero-copy');
  assert.equal(decoder.next(), undefined);
  decoder.push(stream.subarray(11));
  const second = decoder.next()!;
  assert.equal(hex(second), '030405');
  assert.notEqual(second.buffer, stream.buffer);
  assert.equal(decoder.next(), undefined);
});

test('large frames spanning many chunks are joined once complete', () => {
  const big = new Uint8Array(200_000).map((_, i) => i * 7);
  const stream = frameStream([unhex('01'), big, unhex('0203'), new Uint8Array(70_000).fill(9)]);
  for (const step of [7, 4096, 65_536, 150_001]) {
    const decoder = new FrameDecoder();
    const out: string[] = [];
    for (let pos = 0; pos < stream.length; pos += step) {
      decoder.push(stream.subarray(pos, pos + step));
      drain(decoder, out);
    }
    assert.deepEqual(out, [hex(unhex('01')), hex(big), '0203', hex(new Uint8Array(70_000).fill(9))], `step ${step}`);
    assert.equal(decoder.buffered, 0);
  }
});

test('empty frames are allowed; a length exactly maxBuffer is accepted', () => {
  const decoder = new FrameDecoder({ maxBuffer: 3 });
  decoder.push(unhex('00000000 00000003 aabbcc'));
  assert.equal(hex(decoder.next()!), '');
  assert.equal(hex(decoder.next()!), 'aabbcc');
  assert.equal(decoder.next(), undefined);
  assert.equal(new FrameDecoder().maxBuffer, DEFAULT_MAX_BUFFER);
});

test('a negative or oversized length prefix is a DecodeError, and stays one', () => {
  for (const prefix of ['ffffffff', '80000000', '00100000', '7fffffff', hex(new TextEncoder().encode('xyzw'))]) {
    const decoder = new FrameDecoder();
    decoder.push(unhex(`${prefix} 00000000`));
    assert.throws(() => decoder.next(), (e: unknown) => e instanceof DecodeError && /frame length .* out of range/.test(e.message), prefix);
    assert.throws(() => decoder.next(), DecodeError, 'sticky');
  }
  // A length split across chunks is checked too, after the valid frames before it.
  const decoder = new FrameDecoder({ maxBuffer: 10 });
  decoder.push(unhex('00000001 aa 0000'));
  assert.equal(hex(decoder.next()!), 'aa');
  assert.equal(decoder.next(), undefined);
  decoder.push(unhex('0100'));
  assert.throws(() => decoder.next(), /frame length 256 out of range \[0, 10\] at stream offset 5/);
  // maxBuffer + 1 with the default limit.
  const big = new FrameDecoder();
  big.push(unhex('00100000'));
  assert.throws(() => big.next(), DecodeError);
});

test('a huge claimed length never allocates: it is rejected before the payload arrives', () => {
  const decoder = new FrameDecoder({ maxBuffer: 2 ** 31 - 1 });
  decoder.push(unhex('7ffffff0'));
  // With a limit that allows it, the decoder waits for the bytes without allocating for them.
  const before = process.memoryUsage().arrayBuffers;
  assert.equal(decoder.next(), undefined);
  decoder.push(new Uint8Array(1000));
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.buffered, 1000);
  assert.equal(process.memoryUsage().arrayBuffers - before < 1 << 20, true, 'no allocation for the claimed length');
  const strict = new FrameDecoder();
  strict.push(unhex('7ffffff0 00'));
  assert.throws(() => strict.next(), DecodeError);
});

test('four-letter words are recognised on the first 4 bytes; peek/take leave the stream intact', () => {
  assert.equal(FOUR_LETTER_WORDS.length, 18);
  for (const word of FOUR_LETTER_WORDS) assert.equal(fourLetterWordOf(new TextEncoder().encode(word)), word);
  assert.equal(fourLetterWordOf(unhex('fff4fffd')), TELNET_CLOSE);
  assert.equal(fourLetterWordOf(new TextEncoder().encode('xyzw')), undefined);
  assert.equal(fourLetterWordOf(unhex('0000002d')), undefined);
  assert.equal(fourLetterWordOf(unhex('0000002c')), undefined);
  assert.equal(fourLetterWordOf(unhex('7275')), undefined);
  assert.equal(fourLetterWordArgumentBytes('stmk'), 8);
  assert.equal(fourLetterWordArgumentBytes('ruok'), 0);

  // stmk split over chunks, then its 8-byte mask.
  const decoder = new FrameDecoder();
  decoder.push(new TextEncoder().encode('st'));
  assert.equal(decoder.peek(4), undefined);
  decoder.push(new TextEncoder().encode('mk'));
  assert.equal(fourLetterWordOf(decoder.peek(4)!), 'stmk');
  assert.equal(hex(decoder.take(4)!), hex(new TextEncoder().encode('stmk')));
  assert.equal(decoder.take(8), undefined);
  decoder.push(unhex('00000000000000ff'));
  assert.equal(hex(decoder.take(8)!), '00000000000000ff');

  // Not a word: the peeked bytes are the first frame's length.
  const conn = new FrameDecoder();
  conn.push(unhex('0000002c 0000'));
  assert.equal(fourLetterWordOf(conn.peek(4)!), undefined);
  assert.equal(conn.next(), undefined);
  conn.push(new Uint8Array(42));
  assert.equal(conn.next()!.length, 44);
  assert.throws(() => {
    const partial = new FrameDecoder();
    partial.push(unhex('000000'));
    partial.next();
    partial.peek(1);
  }, /partially read/);
});
