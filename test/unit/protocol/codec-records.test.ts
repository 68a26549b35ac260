import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  JuteReader,
  JuteWriter,
  STAT_BYTES,
  decodeConnectRequest,
  decodeConnectResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  readACL,
  readACLs,
  readId,
  readMultiHeader,
  readReplyHeader,
  readRequestHeader,
  readStat,
  readWatcherEvent,
  writeACL,
  writeACLs,
  writeId,
  writeMultiHeader,
  writeReplyHeader,
  writeRequestHeader,
  writeStat,
  writeWatcherEvent,
} from '../../../src/protocol/codec.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import type { Stat } from '../../../src/protocol/records.js';
import { acl, acls, connectRequest, connectResponse, hex, int32, stat, text, unhex, zxid } from './arbitraries.js';

function roundTrip<T>(value: T, write: (w: JuteWriter, v: T) => void, read: (r: JuteReader) => T): { bytes: Uint8Array; back: T } {
  const w = new JuteWriter(0);
  write(w, value);
  const bytes = w.finish();
  const r = new JuteReader(bytes);
  const back = read(r);
  assert.equal(r.remaining, 0, 'decoder consumed every byte');
  return { bytes, back };
}

const sampleStat: Stat = {
  czxid: 0x100000002,
  mzxid: -1,
  ctime: 1_700_000_000_123,
  mtime: 0,
  version: 0x7fffffff,
  cversion: -2,
  aversion: -0x80000000,
  ephemeralOwner: -(2n ** 63n),
  dataLength: 100,
  numChildren: 3,
  pzxid: 2 ** 53 - 1,
};

test('Stat is 68 bytes in field order, and round-trips', () => {
  const { bytes, back } = roundTrip(sampleStat, writeStat, readStat);
  assert.equal(bytes.length, STAT_BYTES);
  assert.equal(
    hex(bytes),
    [
      '0000000100000002',
      'ffffffffffffffff',
      '0000018bcfe5687b',
      '0000000000000000',
      '7fffffff',
      'fffffffe',
      '80000000',
      '8000000000000000',
      '00000064',
      '00000003',
      '001fffffffffffff',
    ].join(''),
  );
  assert.deepEqual(back, sampleStat);
  assert.throws(() => readStat(new JuteReader(bytes.subarray(0, 67))), /Stat at offset 0/);
  fc.assert(fc.property(stat, (s) => assert.deepEqual(roundTrip(s, writeStat, readStat).back, s)));
});

test('Id and ACL round-trip; null strings read as ""', () => {
  const open = { perms: 31, id: { scheme: 'world', id: 'anyone' } };
  const { bytes } = roundTrip(open, writeACL, readACL);
  assert.equal(hex(bytes), '0000001f00000005776f726c6400000006616e796f6e65');
  assert.deepEqual(readId(new JuteReader(unhex('ffffffff ffffffff'))), { scheme: '', id: '' });
  assert.deepEqual(roundTrip({ scheme: 'digest', id: 'u:p' }, writeId, readId).back, { scheme: 'digest', id: 'u:p' });
  fc.assert(fc.property(acl, (a) => assert.deepEqual(roundTrip(a, writeACL, readACL).back, a)));
  fc.assert(fc.property(acls, (list) => assert.deepEqual(roundTrip(list, writeACLs, (r) => readACLs(r)).back, list)));
  assert.deepEqual(roundTrip([], writeACLs, (r) => readACLs(r)).back, []);
  assert.deepEqual(readACLs(new JuteReader(unhex('ffffffff'))), [], 'a null ACL vector reads as []');
  assert.throws(() => readACLs(new JuteReader(unhex('7fffffff'))), DecodeError);
});

test('headers, MultiHeader and WatcherEvent round-trip', () => {
  const rh = roundTrip({ xid: -8, type: 101 }, writeRequestHeader, readRequestHeader);
  assert.equal(hex(rh.bytes), 'fffffff800000065');
  assert.deepEqual(rh.back, { xid: -8, type: 101 });
  const ph = roundTrip({ xid: 7, zxid: 0x3f, err: -101 }, writeReplyHeader, readReplyHeader);
  assert.equal(hex(ph.bytes), '00000007000000000000003fffffff9b');
  assert.deepEqual(ph.back, { xid: 7, zxid: 0x3f, err: -101 });
  const mh = roundTrip({ type: -1, done: true, err: -1 }, (w, h) => writeMultiHeader(w, h.type, h.done, h.err), readMultiHeader);
  assert.equal(hex(mh.bytes), 'ffffffff01ffffffff');
  assert.deepEqual(mh.back, { type: -1, done: true, err: -1 });
  const ev = { type: 4, state: 3, path: '/a' };
  assert.deepEqual(roundTrip(ev, writeWatcherEvent, readWatcherEvent).back, ev);
  fc.assert(
    fc.property(int32, zxid, int32, (xid, z, err) => {
      assert.deepEqual(roundTrip({ xid, zxid: z, err }, writeReplyHeader, readReplyHeader).back, { xid, zxid: z, err });
    }),
  );
  fc.assert(
    fc.property(int32, int32, text, (type, state, path) => {
      assert.deepEqual(roundTrip({ type, state, path }, writeWatcherEvent, readWatcherEvent).back, { type, state, path });
    }),
  );
});

// §14: what real clients send first.
const JAVA_CONNECT = '0000002d 00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000 00';
const KAZOO_CONNECT = '0000002d 00000000 0000000000000000 00002710 0000000000000000 00000010 00000000000000000000000000000000 00';
const NODE_CONNECT = '0000002c 00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000';

test('ConnectRequest byte-exact: Java and kazoo (with readOnly), node-zookeeper-client (without)', () => {
  for (const [frame, timeOut, readOnly] of [
    [JAVA_CONNECT, 30000, false],
    [KAZOO_CONNECT, 10000, false],
    [NODE_CONNECT, 30000, undefined],
  ] as const) {
    const bytes = unhex(frame);
    const decoded = decodeConnectRequest(bytes.subarray(4));
    assert.deepEqual(decoded, {
      protocolVersion: 0,
      lastZxidSeen: 0,
      timeOut,
      sessionId: 0n,
      passwd: new Uint8Array(16),
      readOnly,
    });
    assert.equal(hex(encodeConnectRequest(decoded)), hex(bytes));
  }
  // A reconnect with a zxid, a high session id and readOnly true.
  const reconnect = { protocolVersion: 0, lastZxidSeen: 0x3f, timeOut: 15000, sessionId: -0x7effffffffffffffn, passwd: unhex('8d315fdd96f89d88b367e2fecf413758'), readOnly: true };
  const frame = encodeConnectRequest(reconnect);
  assert.equal(hex(frame), '0000002d00000000000000000000003f00003a98810000000000000100000010' + '8d315fdd96f89d88b367e2fecf413758' + '01');
  assert.deepEqual(decodeConnectRequest(frame.subarray(4)), reconnect);
});

test('ConnectResponse byte-exact (§4.3 observed), with and without the readOnly byte', () => {
  const observed = unhex('00000025 00000000 00002710 0100000de4790000 00000010 8d315fdd96f89d88b367e2fecf413758 00');
  const decoded = decodeConnectResponse(observed.subarray(4));
  assert.deepEqual(decoded, {
    protocolVersion: 0,
    timeOut: 10000,
    sessionId: 0x0100000de4790000n,
    passwd: unhex('8d315fdd96f89d88b367e2fecf413758'),
    readOnly: false,
  });
  assert.equal(hex(encodeConnectResponse(decoded)), hex(observed));
  // 36 bytes for a client that sent no readOnly byte; the expired answer is all zeros.
  const expired = { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: new Uint8Array(16), readOnly: undefined };
  const bytes = encodeConnectResponse(expired);
  assert.equal(hex(bytes), '00000024' + '00'.repeat(36 - 20) + '00000010' + '00'.repeat(16));
  assert.deepEqual(decodeConnectResponse(bytes.subarray(4)), expired);
});

test('connect records: round-trip, null passwd reads as empty, truncation is a DecodeError', () => {
  fc.assert(fc.property(connectRequest, (c) => assert.deepEqual(decodeConnectRequest(encodeConnectRequest(c).subarray(4)), c)));
  fc.assert(fc.property(connectResponse, (c) => assert.deepEqual(decodeConnectResponse(encodeConnectResponse(c).subarray(4)), c)));
  const nullPasswd = unhex('00000000 0000000000000000 00007530 0000000000000000 ffffffff');
  assert.deepEqual(decodeConnectRequest(nullPasswd).passwd, new Uint8Array(0));
  const java = unhex(JAVA_CONNECT).subarray(4);
  for (let cut = 0; cut < java.length - 1; cut++) {
    assert.throws(() => decodeConnectRequest(java.subarray(0, cut)), DecodeError, `cut at ${cut}`);
  }
  assert.equal(decodeConnectRequest(java.subarray(0, java.length - 1)).readOnly, undefined);
});
