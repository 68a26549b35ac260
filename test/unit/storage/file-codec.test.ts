import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { DecodeError } from '../../../src/protocol/errors.js';
import type { Txn, TxnBody } from '../../../src/protocol/txn.js';
import { makeZxid } from '../../../src/protocol/zxid.js';
import { ByteWriter, decodeTxn, encodeTxn, peekZxid } from '../../../src/storage/file-txn-codec.js';
import { sampleBody, sampleTxn } from './txns.js';

function roundTrip(txn: Txn): { txn: Txn; bytes: Buffer } {
  const w = new ByteWriter(16);
  w.u8(0xee); // not at offset 0, as in a real log buffer
  encodeTxn(w, txn);
  const bytes = Buffer.from(w.buf.subarray(1, w.pos));
  return { txn: decodeTxn(w.buf, 1, w.pos), bytes };
}

/** Every field name of every body kind: a new field must be added to the codec (and here). */
const FIELDS: Record<TxnBody['kind'], string[]> = {
  create: ['kind', 'path', 'data', 'acl', 'ephemeralOwner', 'parentCVersion'],
  delete: ['kind', 'path'],
  setData: ['kind', 'path', 'data', 'version'],
  setACL: ['kind', 'path', 'acl', 'version'],
  check: ['kind', 'path', 'version'],
  error: ['kind', 'err'],
  multi: ['kind', 'ops'],
  createSession: ['kind', 'timeout'],
  closeSession: ['kind', 'paths'],
  reconfig: ['kind', 'data'],
};

test('every sample transaction round-trips exactly, with the compact encoding', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 48; i++) {
    const txn = sampleTxn(makeZxid(7, i + 1), i);
    const { txn: back, bytes } = roundTrip(txn);
    assert.deepEqual(back, txn);
    assert.notEqual(bytes[8], 0xff, `kind ${txn.body.kind} uses the explicit form`);
    assert.equal(peekZxid(bytes, 0), txn.header.zxid);
    assert.deepEqual(Object.keys(back.body).sort(), [...FIELDS[back.body.kind]].sort());
    seen.add(txn.body.kind);
  }
  assert.equal(seen.size, Object.keys(FIELDS).length, 'samples cover every kind');
});

test('values the compact form cannot hold fall back to the generic codec, exactly', () => {
  const header = { sessionId: 1n, cxid: 1, zxid: makeZxid(1, 1), time: 5 };
  const cases: Txn[] = [
    { header: { ...header, sessionId: 2n ** 64n - 1n }, body: sampleBody(0) },
    { header: { ...header, cxid: 2 ** 40 }, body: sampleBody(4) },
    { header, body: { kind: 'setData', path: '/a', data: null, version: 1.5 } },
    { header, body: { kind: 'future', answer: 42, list: ['x'] } as unknown as TxnBody },
    { header, body: { kind: 'create', path: '/a', data: null, acl: [], ephemeralOwner: -(2n ** 70n), parentCVersion: 0 } },
  ];
  for (const txn of cases) {
    const { txn: back, bytes } = roundTrip(txn);
    assert.equal(bytes[8], 0xff, 'generic form');
    assert.deepEqual(back, txn);
  }
});

test('fractional and huge times round-trip', () => {
  for (const time of [0, -1, 1.25, 2 ** 53 - 1, 1e300]) {
    const txn = { ...sampleTxn(makeZxid(1, 3), 3), header: { sessionId: -5n, cxid: 0, zxid: makeZxid(1, 3), time } };
    assert.deepEqual(roundTrip(txn).txn, txn);
  }
});

test('an invalid zxid is a programming error', () => {
  for (const zxid of [-1, 1.5, 2 ** 53, NaN]) {
    assert.throws(() => encodeTxn(new ByteWriter(), { header: { sessionId: 0n, cxid: 0, zxid, time: 0 }, body: sampleBody(4) }), TypeError);
  }
});

test('truncated or damaged payloads throw DecodeError, never anything else', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 47 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (i, cutAt, flipAt, value) => {
      const { bytes } = roundTrip(sampleTxn(makeZxid(2, i + 1), i));
      const cut = cutAt % bytes.length;
      assert.throws(() => decodeTxn(bytes, 0, cut), DecodeError);
      const damaged = Buffer.from(bytes);
      damaged[flipAt % damaged.length] = value;
      try {
        decodeTxn(damaged, 0, damaged.length);
      } catch (err) {
        assert.ok(err instanceof DecodeError, String(err));
      }
    }),
    { numRuns: 500, seed: 11 },
  );
});

test('the JavaScript crc32 equals zlib crc32 for every length, offset and continuation', async () => {
  const { crc32 } = await import('../../../src/storage/file-crc.js');
  const { crc32: zlibCrc32 } = await import('node:zlib');
  const buf = Buffer.alloc(700);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 151 + 89) & 0xff;
  for (let start = 0; start < 9; start++) {
    for (let len = 0; len < 600; len += start + 1) {
      assert.equal(crc32(buf, start, start + len), zlibCrc32(buf.subarray(start, start + len)), `start ${start} len ${len}`);
    }
  }
  const whole = zlibCrc32(buf);
  assert.equal(crc32(buf, 300, 700, crc32(buf, 0, 300)), whole);
  assert.equal(crc32(buf, 10, 700, crc32(buf, 0, 10)), whole);
});
