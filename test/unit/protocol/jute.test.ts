import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JuteReader, JuteWriter } from '../../../src/protocol/jute.js';
import { DEFAULT_MAX_BUFFER } from '../../../src/protocol/constants.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import { hex, long, text, unhex, zxid } from './arbitraries.js';

function written(fn: (w: JuteWriter) => void, capacity = 0): Uint8Array {
  const w = new JuteWriter(capacity);
  fn(w);
  return w.finish();
}

function reader(hexBytes: string, maxBuffer?: number): JuteReader {
  return new JuteReader(unhex(hexBytes), maxBuffer === undefined ? undefined : { maxBuffer });
}

test('ints are big-endian two\'s complement', () => {
  assert.equal(hex(written((w) => w.writeInt(1))), '00000001');
  assert.equal(hex(written((w) => w.writeInt(-1))), 'ffffffff');
  assert.equal(hex(written((w) => w.writeInt(0x7fffffff))), '7fffffff');
  assert.equal(hex(written((w) => w.writeInt(-0x80000000))), '80000000');
  assert.equal(reader('80000000').readInt(), -0x80000000);
  assert.equal(reader('7fffffff').readInt(), 0x7fffffff);
  assert.equal(reader('fffffff5').readInt(), -11);
});

test('longs as bigint: signed on read, both signed and unsigned forms accepted on write', () => {
  assert.equal(hex(written((w) => w.writeLong(0n))), '0000000000000000');
  assert.equal(hex(written((w) => w.writeLong(-1n))), 'ffffffffffffffff');
  assert.equal(hex(written((w) => w.writeLong(0x0100000de4790000n))), '0100000de4790000');
  // A session id above 2^63 and its two's complement negative give the same bytes.
  const big = 2n ** 63n + 5n;
  const bytes = written((w) => w.writeLong(big));
  assert.equal(hex(bytes), '8000000000000005');
  assert.equal(hex(written((w) => w.writeLong(big - 2n ** 64n))), '8000000000000005');
  assert.equal(new JuteReader(bytes).readLong(), big - 2n ** 64n);
  assert.equal(BigInt.asUintN(64, new JuteReader(bytes).readLong()), big);
  assert.equal(reader('8000000000000000').readLong(), -(2n ** 63n));
  assert.equal(reader('7fffffffffffffff').readLong(), 2n ** 63n - 1n);
  assert.equal(reader('00000000ffffffff').readLong(), 0xffffffffn);
});

test('repeated and alternating longs convert correctly both ways', () => {
  const values = [5n, 5n, -5n, 5n, 2n ** 40n, 2n ** 40n + 1n, 2n ** 40n, 0n, -1n, -1n, 1n << 32n];
  const bytes = written((w) => values.forEach((v) => w.writeLong(v)));
  const r = new JuteReader(bytes);
  assert.deepEqual(values.map(() => r.readLong()), values);
});

test('longs as numbers (zxid form) are exact for |x| < 2^53, including -1', () => {
  const cases: [number, string][] = [
    [0, '0000000000000000'],
    [-1, 'ffffffffffffffff'],
    [1, '0000000000000001'],
    [2 ** 32, '0000000100000000'],
    [2 ** 32 - 1, '00000000ffffffff'],
    [-(2 ** 32), 'ffffffff00000000'],
    [2 ** 53 - 1, '001fffffffffffff'],
    [-(2 ** 53 - 1), 'ffe0000000000001'],
    [0x3f, '000000000000003f'],
  ];
  for (const [value, bytes] of cases) {
    assert.equal(hex(written((w) => w.writeZxid(value))), bytes, `write ${value}`);
    assert.equal(reader(bytes).readZxid(), value, `read ${bytes}`);
  }
  fc.assert(
    fc.property(zxid, (x) => {
      const b = written((w) => w.writeZxid(x));
      assert.equal(hex(b), hex(written((w) => w.writeLong(BigInt(x)))));
      assert.equal(new JuteReader(b).readZxid(), x);
    }),
  );
  fc.assert(
    fc.property(long, (x) => {
      assert.equal(new JuteReader(written((w) => w.writeLong(x))).readLong(), x);
    }),
  );
});

test('booleans: written as 0/1, any non-zero byte reads as true', () => {
  assert.equal(hex(written((w) => (w.writeBool(true), w.writeBool(false)))), '0100');
  assert.equal(reader('02').readBool(), true);
  assert.equal(reader('ff').readBool(), true);
  assert.equal(reader('00').readBool(), false);
});

test('buffers: -1 is null, 0 is empty; copies by default, views with zeroCopy', () => {
  assert.equal(hex(written((w) => w.writeBuffer(null))), 'ffffffff');
  assert.equal(hex(written((w) => w.writeBuffer(new Uint8Array(0)))), '00000000');
  assert.equal(hex(written((w) => w.writeBuffer(unhex('0102ff')))), '000000030102ff');
  assert.equal(reader('ffffffff').readBuffer(), null);
  assert.deepEqual(reader('00000000').readBuffer(), new Uint8Array(0));
  const input = unhex('000000030102ff');
  const copy = new JuteReader(input).readBuffer()!;
  assert.deepEqual(copy, unhex('0102ff'));
  assert.notEqual(copy.buffer, input.buffer);
  assert.equal(copy.buffer.byteLength, 3, 'a copy owns exactly its bytes');
  const view = new JuteReader(input, { zeroCopy: true }).readBuffer()!;
  assert.deepEqual(view, unhex('0102ff'));
  assert.equal(view.buffer, input.buffer);
});

test('strings: UTF-8 with a byte-length prefix, null as -1, null read as "" by readString', () => {
  assert.equal(hex(written((w) => w.writeString('/zookeeper'))), '0000000a2f7a6f6f6b6565706572');
  assert.equal(hex(written((w) => w.writeString(''))), '00000000');
  assert.equal(hex(written((w) => w.writeString(null))), 'ffffffff');
  assert.equal(hex(written((w) => w.writeString('é'))), '00000002c3a9');
  assert.equal(hex(written((w) => w.writeString('😀'))), '00000004f09f9880');
  assert.equal(reader('ffffffff').readUstring(), null);
  assert.equal(reader('ffffffff').readString(), '');
  assert.equal(reader('00000002c3a9').readString(), 'é');
  // Short, long, very long; ASCII and not: lengths match Buffer.byteLength.
  for (const s of ['a', 'x'.repeat(64), 'x'.repeat(65), 'y'.repeat(5000), 'é'.repeat(40), `${'a'.repeat(63)}é`, 'ü'.repeat(2000), '日本語'.repeat(500)]) {
    const b = written((w) => w.writeString(s));
    const r = new JuteReader(b);
    assert.equal(r.readInt(), Buffer.byteLength(s));
    assert.equal(new JuteReader(b).readString(), s);
  }
  fc.assert(
    fc.property(text, (s) => {
      const b = written((w) => w.writeString(s), 1);
      assert.equal(hex(b), `${Buffer.byteLength(s).toString(16).padStart(8, '0')}${Buffer.from(s).toString('hex')}`);
      assert.equal(new JuteReader(b).readString(), s);
    }),
  );
});

test('invalid UTF-8 decodes with replacement characters instead of throwing', () => {
  assert.equal(reader('00000002c328').readString(), '\ufffd(');
  assert.equal(reader('00000001ff').readString(), '\ufffd');
});

test('vectors: -1 is null (or [] in the defaulting readers), counts are bounded by the bytes left', () => {
  assert.equal(hex(written((w) => w.writeStringVector(null))), 'ffffffff');
  assert.equal(hex(written((w) => w.writeStringVector([]))), '00000000');
  assert.equal(hex(written((w) => w.writeStringVector(['a', 'bc']))), '0000000200000001610000000262 63'.replace(' ', ''));
  assert.equal(reader('ffffffff').readStringVectorOrNull(), null);
  assert.deepEqual(reader('ffffffff').readStringVector(), []);
  assert.deepEqual(reader('00000002ffffffff0000000161').readStringVector(), ['', 'a']);
  assert.deepEqual(
    reader('0000000200000001000000022a').readVector('ints', 4, (r) => r.readInt()),
    [1, 2],
    'readVector must not be confused by reading fixed-size items',
  );
  assert.throws(() => reader('7fffffff').readStringVector(), DecodeError);
  assert.throws(() => reader('80000000').readStringVector(), DecodeError);
  assert.throws(() => reader('fffffffe').readStringVector(), /negative count -2/);
  // A count that fits only if items were 0 bytes: rejected because each item is at least 4.
  assert.throws(() => reader('0000000300000000').readStringVector(), /count 3 cannot fit/);
});

test('lengths are checked against the bytes left and maxBuffer before allocating', () => {
  assert.throws(() => reader('fffffffe').readBuffer(), /negative length -2/);
  assert.throws(() => reader('80000000').readUstring(), DecodeError);
  assert.throws(() => reader('7fffffff').readBuffer(), /exceeds maxBuffer/);
  assert.throws(() => reader('7fffffff', 2 ** 31).readBuffer(), /truncated: length 2147483647/);
  assert.throws(() => reader('00000005010203').readBuffer(), /truncated/);
  assert.throws(() => reader('00000004616263').readString('Id.scheme'), /Id\.scheme at offset 0/);
  // maxBuffer is configurable per reader.
  assert.throws(() => reader('00000003616263', 2).readString(), /exceeds maxBuffer 2/);
  assert.equal(reader('00000003616263', 3).readString(), 'abc');
  assert.equal(new JuteReader(new Uint8Array(0)).maxBuffer, DEFAULT_MAX_BUFFER);
});

test('truncated fixed-size reads name the field and the offset', () => {
  const r = reader('0000000100');
  assert.equal(r.readInt(), 1);
  assert.throws(
    () => r.readInt('RequestHeader.type'),
    (e: unknown) => e instanceof DecodeError && /RequestHeader\.type at offset 4/.test(e.message) && e.code === -5,
  );
  assert.throws(() => reader('00').readLong(), /truncated: need 8 bytes, 1 left/);
  assert.throws(() => reader('000000').readZxid('zxid'), /zxid at offset 0/);
  assert.throws(() => reader('').readBool(), DecodeError);
});

test('a reader can work on a slice of a larger array', () => {
  const bytes = unhex('aaaa 00000007 bbbb');
  const r = new JuteReader(bytes, undefined, 2, 6);
  assert.equal(r.remaining, 4);
  assert.equal(r.readInt(), 7);
  assert.equal(r.remaining, 0);
  assert.throws(() => r.readBool(), /at offset 6/);
  assert.throws(() => new JuteReader(bytes, undefined, 4, 100), RangeError);
  // A Uint8Array view with a byteOffset (not a Buffer) decodes strings correctly.
  const backing = new Uint8Array(16);
  backing.set(unhex('00000002c3a9'), 5);
  assert.equal(new JuteReader(backing.subarray(5, 11)).readString(), 'é');
});

test('the writer grows, reserves and patches length prefixes, and detaches on finish', () => {
  const w = new JuteWriter(1);
  const at = w.reserveLength();
  for (let i = 0; i < 1000; i++) w.writeInt(i);
  w.writeString('z'.repeat(3000));
  w.patchLength(at);
  const first = w.finish();
  assert.equal(first.length, 4 + 4000 + 4 + 3000);
  assert.equal(new JuteReader(first).readInt(), first.length - 4);
  const r = new JuteReader(first, undefined, 4);
  for (let i = 0; i < 1000; i++) assert.equal(r.readInt(), i);
  assert.equal(r.readString(), 'z'.repeat(3000));
  // Reuse after finish must not overwrite the bytes handed out.
  const snapshot = hex(first);
  w.writeInt(-1);
  w.writeBytes(unhex('0102'));
  assert.equal(hex(w.finish()), 'ffffffff0102');
  assert.equal(hex(first), snapshot);
  // Exact capacity returns the allocation itself; reset discards.
  const exact = new JuteWriter(4);
  exact.writeInt(9);
  exact.reset();
  exact.writeInt(10);
  assert.equal(exact.length, 4);
  assert.equal(hex(exact.finish()), '0000000a');
});

test('a mostly empty large allocation is not pinned by the result', () => {
  const w = new JuteWriter(1 << 20);
  w.writeInt(1);
  const out = w.finish();
  assert.equal(out.length, 4);
  assert.equal(out.buffer.byteLength < 1 << 20, true, 'result does not pin the 1 MiB allocation');
});

test('forFrame writers carve successive frames from a shared slab without overlap', () => {
  const frames: Uint8Array[] = [];
  // Enough frames to roll over several 64 KiB slabs, mixed with large ones and undersized bounds.
  for (let i = 0; i < 3000; i++) {
    const size = i % 500 === 7 ? 20_000 : (i * 37) % 300;
    const w = JuteWriter.forFrame(i % 10 === 3 ? 4 : 4 + 4 + size);
    const at = w.reserveLength();
    w.writeInt(i);
    w.writeBytes(new Uint8Array(size).fill(i & 0xff));
    w.patchLength(at);
    assert.equal(w.length, 8 + size);
    frames.push(w.finish());
  }
  frames.forEach((frame, i) => {
    const r = new JuteReader(frame);
    const size = i % 500 === 7 ? 20_000 : (i * 37) % 300;
    assert.equal(r.readInt(), 4 + size);
    assert.equal(r.readInt(), i);
    assert.equal(frame.length, 8 + size);
    for (let j = 8; j < frame.length; j++) if (frame[j] !== (i & 0xff)) assert.fail(`frame ${i} overwritten at ${j}`);
  });
});
