import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  JuteWriter,
  RequestDecodeError,
  UnknownOpcodeError,
  decodeRequest,
  encodeRequest,
  writeRequest,
} from '../../../src/protocol/codec.js';
import { DecodeError, ErrorCode, UnimplementedError } from '../../../src/protocol/errors.js';
import type { ClientRequest } from '../../../src/protocol/records.js';
import { hex, request, unhex } from './arbitraries.js';

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function roundTrip(xid: number, req: ClientRequest): Uint8Array {
  const frame = encodeRequest(xid, req);
  assert.equal(new DataView(frame.buffer, frame.byteOffset).getInt32(0), frame.length - 4, 'length prefix');
  const decoded = decodeRequest(frame.subarray(4));
  assert.deepEqual(decoded, { header: { xid, type: req.type }, request: req });
  return frame;
}

test('byte-exact frames from §14: getData("/zookeeper", watch), ping, close', () => {
  const getData = '00000017 00000001 00000004 0000000a 2f7a6f6f6b6565706572 01';
  assert.equal(hex(roundTrip(1, { type: 4, path: '/zookeeper', watch: true })), hex(unhex(getData)));
  const ping = '00000008 fffffffe 0000000b';
  assert.equal(hex(roundTrip(-2, { type: 11 })), hex(unhex(ping)));
  const close = '00000008 00000002 fffffff5';
  assert.equal(hex(roundTrip(2, { type: -11 })), hex(unhex(close)));
  // Decoding the captured bytes and re-encoding them gives the same bytes.
  for (const frame of [getData, ping, close]) {
    const bytes = unhex(frame);
    const { header, request: req } = decodeRequest(bytes.subarray(4));
    assert.equal(hex(encodeRequest(header.xid, req)), hex(bytes));
  }
});

test('auth packet and SetWatches2 as the Java client sends them after a reconnect (§14)', () => {
  const auth = roundTrip(-4, { type: 100, authType: 0, scheme: 'digest', auth: new TextEncoder().encode('u:p') });
  assert.equal(hex(auth), hex(unhex('0000001d fffffffc 00000064 00000000 00000006 646967657374 00000003 753a70')));
  const sw2 = roundTrip(5, {
    type: 105,
    relativeZxid: 0x3f,
    dataWatches: ['/zookeeper'],
    existWatches: ['/nope-java'],
    childWatches: ['/'],
    persistentWatches: [],
    persistentRecursiveWatches: ['/'],
  });
  assert.equal(
    hex(sw2),
    hex(
      unhex(
        '0000004a 00000005 00000069 000000000000003f' +
          '00000001 0000000a 2f7a6f6f6b6565706572' +
          '00000001 0000000a 2f6e6f70652d6a617661' +
          '00000001 00000001 2f' +
          '00000000' +
          '00000001 00000001 2f',
      ),
    ),
  );
  // setWatches (101) carries only three lists; the C client's xid -8 is kept.
  const sw = roundTrip(-8, {
    type: 101,
    relativeZxid: 0,
    dataWatches: [],
    existWatches: ['/x'],
    childWatches: [],
    persistentWatches: [],
    persistentRecursiveWatches: [],
  });
  assert.equal(hex(sw), hex(unhex('00000022 fffffff8 00000065 0000000000000000 00000000 00000001 00000002 2f78 00000000')));
});

test('every request type round-trips (hand-written values and edge cases)', () => {
  const data = new Uint8Array([0, 1, 2, 255]);
  const cases: ClientRequest[] = [
    { type: 1, path: '/a', data, acl: OPEN_ACL, flags: 0 },
    { type: 1, path: '/null-data', data: null, acl: [], flags: 3 },
    { type: 15, path: '/b', data: new Uint8Array(0), acl: OPEN_ACL, flags: 1 },
    { type: 19, path: '/c', data, acl: OPEN_ACL, flags: 4 },
    { type: 21, path: '/t', data, acl: OPEN_ACL, flags: 5, ttl: 2 ** 40 - 1 },
    { type: 21, path: '/t', data, acl: OPEN_ACL, flags: 6, ttl: -1 },
    { type: 2, path: '/a', version: -1 },
    { type: 2, path: '/a', version: 0x7fffffff },
    { type: 3, path: '/a', watch: false },
    { type: 4, path: '/é/日本', watch: true },
    { type: 5, path: '/a', data: null, version: -1 },
    { type: 6, path: '/a' },
    { type: 7, path: '/a', acl: [{ perms: 1, id: { scheme: 'digest', id: 'u:hash=' } }, ...OPEN_ACL], version: 3 },
    { type: 8, path: '/', watch: true },
    { type: 9, path: '/a' },
    { type: 11 },
    { type: 12, path: '/', watch: false },
    { type: 13, path: '/a', version: 1 },
    { type: 14, ops: [] },
    {
      type: 14,
      ops: [
        { type: 1, path: '/m', data, acl: OPEN_ACL, flags: 0 },
        { type: 15, path: '/m2', data: null, acl: OPEN_ACL, flags: 2 },
        { type: 19, path: '/m3', data, acl: OPEN_ACL, flags: 4 },
        { type: 21, path: '/m4', data, acl: OPEN_ACL, flags: 5, ttl: 1000 },
        { type: 5, path: '/m', data, version: 0 },
        { type: 13, path: '/m', version: 1 },
        { type: 2, path: '/m', version: -1 },
      ],
    },
    { type: 16, joiningServers: null, leavingServers: 'server.3', newMembers: '', curConfigId: -1n },
    { type: 17, path: '/a', watcherType: 3 },
    { type: 18, path: '/a', watcherType: 1 },
    { type: 22, ops: [{ type: 4, path: '/a' }, { type: 8, path: '/b' }] },
    { type: 22, ops: [] },
    { type: 100, authType: 0, scheme: 'digest', auth: null },
    { type: 101, relativeZxid: -1, dataWatches: [], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] },
    { type: 102, token: null },
    { type: 102, token: data },
    { type: 103, prefixPath: '' },
    { type: 104, path: '/' },
    { type: 105, relativeZxid: 2 ** 53 - 1, dataWatches: ['/a'], existWatches: [], childWatches: ['/b', '/c'], persistentWatches: ['/p'], persistentRecursiveWatches: [] },
    { type: 106, path: '/a', mode: 1 },
    { type: 107 },
    { type: -11 },
  ];
  for (const [i, req] of cases.entries()) roundTrip(i + 1, req);
  fc.assert(fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), request, (xid, req) => void roundTrip(xid, req)));
});

test('multi encodes MultiHeader{op, false, -1} per op and the terminator {-1, true, -1} (§12.1)', () => {
  const frame = encodeRequest(7, { type: 14, ops: [{ type: 2, path: '/a', version: -1 }, { type: 13, path: '/b', version: 2 }] });
  assert.equal(
    hex(frame),
    hex(
      unhex(
        '00000037 00000007 0000000e' +
          '00000002 00 ffffffff 00000002 2f61 ffffffff' +
          '0000000d 00 ffffffff 00000002 2f62 00000002' +
          'ffffffff 01 ffffffff',
      ),
    ),
  );
  assert.equal(hex(encodeRequest(1, { type: 14, ops: [] })), hex(unhex('00000011 00000001 0000000e ffffffff 01 ffffffff')));
  // multiRead ops carry a (false) watch flag; a true flag decodes too and is dropped.
  const mr = unhex('00000001 00000016 00000004 00 ffffffff 00000002 2f61 01 ffffffff 01 ffffffff');
  assert.deepEqual(decodeRequest(mr).request, { type: 22, ops: [{ type: 4, path: '/a' }] });
});

test('null strings from kazoo decode as ""; a null ACL vector as []', () => {
  const body = unhex('00000001 00000001 ffffffff ffffffff ffffffff 00000000');
  assert.deepEqual(decodeRequest(body).request, { type: 1, path: '', data: null, acl: [], flags: 0 });
  const auth = unhex('fffffffc 00000064 00000000 ffffffff ffffffff');
  assert.deepEqual(decodeRequest(auth).request, { type: 100, authType: 0, scheme: '', auth: null });
  const eph = unhex('00000003 00000067 ffffffff');
  assert.deepEqual(decodeRequest(eph).request, { type: 103, prefixPath: '' });
  const sw = unhex('00000003 00000065 0000000000000000 ffffffff ffffffff ffffffff');
  assert.deepEqual(decodeRequest(sw).request, {
    type: 101,
    relativeZxid: 0,
    dataWatches: [],
    existWatches: [],
    childWatches: [],
    persistentWatches: [],
    persistentRecursiveWatches: [],
  });
});

test('unknown opcodes throw UnknownOpcodeError (-6) with the xid; deleteContainer and notification are not for clients', () => {
  for (const type of [55, 0, 20, -10, -1, 10, 23, 99, 108, 0x7fffffff]) {
    assert.throws(
      () => decodeRequest(unhex(`0000002a ${(type >>> 0).toString(16).padStart(8, '0')} 00000002 2f61`)),
      (e: unknown) =>
        e instanceof UnknownOpcodeError &&
        e instanceof UnimplementedError &&
        !(e instanceof DecodeError) &&
        e.code === ErrorCode.Unimplemented &&
        e.xid === 42 &&
        e.opcode === type,
      `type ${type}`,
    );
  }
});

test('an unparsable body throws RequestDecodeError (-5) carrying xid and opcode', () => {
  const check = (payload: string, pattern: RegExp) =>
    assert.throws(
      () => decodeRequest(unhex(payload)),
      (e: unknown) =>
        e instanceof RequestDecodeError &&
        e instanceof DecodeError &&
        e.code === ErrorCode.MarshallingError &&
        e.xid === 9 &&
        pattern.test(e.message),
    );
  check('00000009 00000004 0000000a 2f7a6f6f', /opcode 4, xid 9: .*truncated/); // path cut short
  check('00000009 00000004 00000001 2f', /watch at offset 13/); // missing watch flag
  check('00000009 00000001 00000002 2f61 fffffffe', /negative length -2/);
  check('00000009 00000001 00000002 2f61 00000000 7fffffff', /CreateRequest\.acl/);
  check('00000009 0000000e 00000004 00 ffffffff 00000002 2f61 00 ffffffff 01 ffffffff', /op type 4 not allowed in multi/);
  check('00000009 00000016 00000001 00 ffffffff', /op type 1 not allowed in multiRead/);
  check('00000009 0000000e 00000002 00 ffffffff 00000002 2f61 ffffffff', /MultiHeader/); // no terminator
  check('00000009 00000065 0000000000000000 00000001', /SetWatches\.dataWatches/);
  // Not even a header: a plain DecodeError (the server closes the connection).
  for (const payload of ['', '000000', '00000009 0000']) {
    assert.throws(
      () => decodeRequest(unhex(payload)),
      (e: unknown) => e instanceof DecodeError && !(e instanceof RequestDecodeError),
    );
  }
});

test('decoding ignores trailing bytes after the body, like ZooKeeper', () => {
  assert.deepEqual(decodeRequest(unhex('00000001 0000000b 00')).request, { type: 11 });
  assert.deepEqual(decodeRequest(unhex('00000001 00000009 00000001 2f 1234')).request, { type: 9, path: '/' });
});

test('writeRequest appends several frames to one writer', () => {
  const w = new JuteWriter(8);
  writeRequest(w, 1, { type: 3, path: '/a', watch: true });
  writeRequest(w, -2, { type: 11 });
  writeRequest(w, 2, { type: 5, path: '/a', data: new Uint8Array(300), version: -1 });
  const all = w.finish();
  const a = encodeRequest(1, { type: 3, path: '/a', watch: true });
  const b = encodeRequest(-2, { type: 11 });
  const c = encodeRequest(2, { type: 5, path: '/a', data: new Uint8Array(300), version: -1 });
  assert.equal(hex(all), hex(a) + hex(b) + hex(c));
});

test('createTTL ttl is a long; the buffer maxBuffer applies to request fields', () => {
  const frame = encodeRequest(1, { type: 21, path: '/t', data: null, acl: [], flags: 5, ttl: 0x123456789 });
  assert.equal(hex(frame).slice(-16), '0000000123456789');
  const big = encodeRequest(1, { type: 5, path: '/a', data: new Uint8Array(2000), version: 0 });
  assert.throws(() => decodeRequest(big.subarray(4), { maxBuffer: 1000 }), RequestDecodeError);
  assert.equal((decodeRequest(big.subarray(4), { maxBuffer: 2000 }).request as { data: Uint8Array }).data.length, 2000);
});
