import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  JuteReader,
  JuteWriter,
  decodeResponse,
  encodeHeaderReply,
  encodeNotification,
  encodeReply,
  readReplyHeader,
  readWatcherEvent,
  writeNotification,
  writeReply,
  writeStat,
} from '../../../src/protocol/codec.js';
import type { ReplyOpCode } from '../../../src/protocol/codec.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import type { MultiResponse, ReplyHeader, Stat } from '../../../src/protocol/records.js';
import { REPLY_OPCODES, hex, reply, unhex } from './arbitraries.js';

const STAT: Stat = {
  czxid: 2,
  mzxid: 3,
  ctime: 1_700_000_000_000,
  mtime: 1_700_000_000_001,
  version: 1,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0x0100000de4790000n,
  dataLength: 3,
  numChildren: 0,
  pzxid: 2,
};

/** Encode a reply, check its prefix, decode header and body, and check every byte was used. */
function roundTrip(header: ReplyHeader, opcode: ReplyOpCode, response: unknown): Uint8Array {
  const frame = encodeReply(header, opcode, response as never);
  assert.equal(new DataView(frame.buffer, frame.byteOffset).getInt32(0), frame.length - 4, 'length prefix');
  const r = new JuteReader(frame, undefined, 4);
  assert.deepEqual(readReplyHeader(r), header);
  if (header.err === 0) assert.deepEqual(decodeResponse(opcode, r), response);
  assert.equal(r.remaining, 0, `opcode ${opcode}: every byte decoded`);
  return frame;
}

test('every response type round-trips (hand-written values)', () => {
  const h = { xid: 12, zxid: 0x100000007, err: 0 };
  const data = new Uint8Array([1, 2, 3]);
  roundTrip(h, 1, { path: '/a-0000000001' });
  roundTrip(h, 2, undefined);
  roundTrip(h, 3, { stat: STAT });
  roundTrip(h, 4, { data, stat: STAT });
  roundTrip(h, 4, { data: null, stat: { ...STAT, dataLength: 0 } });
  roundTrip(h, 4, { data: new Uint8Array(0), stat: { ...STAT, dataLength: 0 } });
  roundTrip(h, 5, { stat: { ...STAT, version: 0x7fffffff } });
  roundTrip(h, 6, { acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }, { perms: 1, id: { scheme: 'digest', id: 'user:x' } }], stat: STAT });
  roundTrip(h, 6, { acl: [], stat: STAT });
  roundTrip(h, 7, { stat: STAT });
  roundTrip(h, 8, { children: [] });
  roundTrip(h, 8, { children: ['a', 'b', 'zookeeper', 'é'] });
  roundTrip(h, 9, { path: '/' });
  roundTrip({ xid: -2, zxid: 5, err: 0 }, 11, undefined);
  roundTrip(h, 12, { children: ['x'], stat: { ...STAT, ephemeralOwner: -1n } });
  roundTrip(h, 13, undefined);
  roundTrip(h, 14, { results: [] });
  roundTrip(h, 15, { path: '/c', stat: STAT });
  roundTrip(h, 16, { data: new TextEncoder().encode('server.1=...\nversion=100000000'), stat: STAT });
  roundTrip(h, 17, undefined);
  roundTrip(h, 18, undefined);
  roundTrip(h, 19, { path: '/container', stat: STAT });
  roundTrip(h, 21, { path: '/ttl', stat: STAT });
  roundTrip(h, 22, { results: [] });
  roundTrip({ xid: -4, zxid: 0, err: 0 }, 100, undefined);
  roundTrip(h, 101, undefined);
  roundTrip(h, 102, { token: null });
  roundTrip(h, 102, { token: data });
  roundTrip(h, 103, { ephemerals: ['/e1', '/e2'] });
  roundTrip(h, 104, { totalNumber: 0x7fffffff });
  roundTrip(h, 105, undefined);
  roundTrip(h, 106, { err: 0 });
  roundTrip(h, 107, { clientInfo: [{ authScheme: 'ip', user: '127.0.0.1' }, { authScheme: 'digest', user: 'user' }] });
  roundTrip(h, 107, { clientInfo: [] });
  roundTrip(h, -11, undefined);
});

test('random responses of every opcode round-trip', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.maxSafeInteger(), reply, (xid, zxid, { opcode, response }) => {
      roundTrip({ xid, zxid, err: 0 }, opcode, response);
    }),
  );
});

test('error replies are header-only, whatever the opcode (§5.1)', () => {
  for (const opcode of REPLY_OPCODES) {
    const frame = encodeReply({ xid: 3, zxid: 0x3f, err: -101 }, opcode);
    assert.equal(hex(frame), '00000010' + '00000003' + '000000000000003f' + 'ffffff9b');
  }
  // Even if a body is passed by mistake.
  assert.equal(encodeReply({ xid: 1, zxid: 1, err: -110 }, 4, { data: new Uint8Array(10), stat: STAT }).length, 20);
  assert.equal(hex(encodeHeaderReply(55, -1, -6)), '00000010 00000037 ffffffffffffffff fffffffa'.replace(/ /g, ''));
});

test('ping reply is header-only with xid -2; close and setWatches replies have no body', () => {
  assert.equal(hex(encodeReply({ xid: -2, zxid: 0x10, err: 0 }, 11)), '00000010fffffffe000000000000001000000000');
  assert.equal(hex(encodeReply({ xid: 8, zxid: 0x11, err: 0 }, -11)), '0000001000000008000000000000001100000000');
  assert.equal(encodeReply({ xid: 8, zxid: 0x11, err: 0 }, 105).length, 20);
});

test('addWatch replies with ErrorResponse{0}: 4 zero bytes after the header (§6)', () => {
  const frame = encodeReply({ xid: 6, zxid: 0x20, err: 0 }, 106);
  assert.equal(hex(frame), '00000014' + '00000006' + '0000000000000020' + '00000000' + '00000000');
  const r = new JuteReader(frame, undefined, 4 + 16);
  assert.deepEqual(decodeResponse(106, r), { err: 0 });
  assert.equal(hex(encodeReply({ xid: 6, zxid: 0x20, err: 0 }, 106, { err: 0 })), hex(frame));
});

test('notification frame byte-exact (§8.4): xid -1, zxid -1, WatcherEvent', () => {
  const observed = unhex('0000002f ffffffff ffffffffffffffff 00000000 00000001 00000003 00000013 2f6a6176617365712d30303030303030303032');
  const event = { type: 1, state: 3, path: '/javaseq-0000000002' };
  assert.equal(hex(encodeNotification(event)), hex(observed));
  const r = new JuteReader(observed, undefined, 4);
  assert.deepEqual(readReplyHeader(r), { xid: -1, zxid: -1, err: 0 });
  const decoded = readWatcherEvent(r);
  assert.deepEqual(decoded, event);
  assert.equal(hex(encodeNotification(decoded)), hex(observed));
  // 3.9 puts the txn zxid there; the parameter allows it.
  assert.equal(hex(encodeNotification(event, 0x42)).slice(0, 32), '0000002fffffffff0000000000000042');
});

test('failed multi: err 0 and per-op error results with the code in header and body (§12.2)', () => {
  const results: MultiResponse = {
    results: [
      { type: -1, err: 0 },
      { type: -1, err: 0 },
      { type: -1, err: -103 },
      { type: -1, err: -2 },
    ],
  };
  const expected = unhex(
    '0000004d 00000009 0000000000000100 00000000' +
      'ffffffff 00 00000000 00000000' +
      'ffffffff 00 00000000 00000000' +
      'ffffffff 00 ffffff99 ffffff99' +
      'ffffffff 00 fffffffe fffffffe' +
      'ffffffff 01 ffffffff',
  );
  assert.equal(hex(roundTrip({ xid: 9, zxid: 0x100, err: 0 }, 14, results)), hex(expected));
  const r = new JuteReader(expected, undefined, 4);
  const header = readReplyHeader(r);
  const decoded = decodeResponse(14, r);
  assert.equal(hex(encodeReply(header, 14, decoded)), hex(expected));
});

test('empty multi reply is only the terminator ffffffff 01 ffffffff (§12.1)', () => {
  const frame = roundTrip({ xid: 1, zxid: 5, err: 0 }, 14, { results: [] });
  assert.equal(hex(frame), '00000019' + '00000001' + '0000000000000005' + '00000000' + 'ffffffff01ffffffff');
});

test('successful multi results: create type 1 (path) vs create2 type 15 (path + stat), delete, setData, check', () => {
  const response: MultiResponse = {
    results: [
      { type: 1, path: '/a' },
      { type: 15, path: '/b', stat: STAT },
      { type: 2 },
      { type: 5, stat: STAT },
      { type: 13 },
    ],
  };
  const frame = roundTrip({ xid: 2, zxid: 9, err: 0 }, 14, response);
  const w = new JuteWriter(0);
  writeStat(w, STAT);
  const stat = hex(w.finish());
  const body =
    '0000000100' + '00000000' + '000000022f61' +
    '0000000f00' + '00000000' + '000000022f62' + stat +
    '0000000200' + '00000000' +
    '0000000500' + '00000000' + stat +
    '0000000d00' + '00000000' +
    'ffffffff01ffffffff';
  assert.equal(hex(frame), (16 + body.length / 2).toString(16).padStart(8, '0') + '00000002' + '0000000000000009' + '00000000' + body);
});

test('multiRead results: getData, error (-101) and getChildren (§12.3)', () => {
  roundTrip({ xid: 3, zxid: 9, err: 0 }, 22, {
    results: [
      { type: 4, data: new Uint8Array([7]), stat: STAT },
      { type: -1, err: -101 },
      { type: 8, children: ['c1', 'c2'] },
    ],
  });
});

test('an error result body code wins over the header code, as in Java', () => {
  const bytes = unhex('ffffffff 00 00000000 ffffff9b ffffffff 01 ffffffff');
  assert.deepEqual(decodeResponse(14, new JuteReader(bytes)), { results: [{ type: -1, err: -101 }] });
});

test('client-side decoding rejects malformed replies with DecodeError', () => {
  assert.throws(() => decodeResponse(14, new JuteReader(unhex('00000007 00 00000000'))), /invalid result type 7/);
  assert.throws(() => decodeResponse(14, new JuteReader(unhex('00000001 00 00000000 00000001 2f'))), /MultiHeader/);
  assert.throws(() => decodeResponse(4, new JuteReader(unhex('00000003 010203'))), /Stat/);
  assert.throws(() => decodeResponse(8, new JuteReader(unhex('7fffffff'))), /GetChildrenResponse\.children/);
  assert.throws(() => decodeResponse(55 as ReplyOpCode, new JuteReader(new Uint8Array(0))), DecodeError);
  assert.throws(() => readReplyHeader(new JuteReader(unhex('00000001 0000'))), /ReplyHeader\.zxid/);
});

test('a missing body for a success that needs one is a programming error (TypeError)', () => {
  assert.throws(() => encodeReply({ xid: 1, zxid: 1, err: 0 }, 4), TypeError);
  assert.throws(() => encodeReply({ xid: 1, zxid: 1, err: 0 }, 99 as ReplyOpCode, {} as never), TypeError);
});

test('a getData reply is allocated once at its exact size', () => {
  const data = new Uint8Array(100_000).fill(7);
  const frame = encodeReply({ xid: 1, zxid: 2, err: 0 }, 4, { data, stat: { ...STAT, dataLength: data.length } });
  assert.equal(frame.length, 4 + 16 + 4 + 100_000 + 68);
  assert.equal(frame.byteOffset, 0);
  assert.equal(frame.buffer.byteLength, frame.length);
});

test('writeReply and writeNotification batch several frames into one writer', () => {
  const w = new JuteWriter(16);
  writeNotification(w, { type: 3, state: 3, path: '/a' });
  writeReply(w, { xid: 4, zxid: 10, err: 0 }, 5, { stat: STAT });
  writeReply(w, { xid: 5, zxid: 10, err: -103 }, 5);
  const all = w.finish();
  const expected =
    hex(encodeNotification({ type: 3, state: 3, path: '/a' })) +
    hex(encodeReply({ xid: 4, zxid: 10, err: 0 }, 5, { stat: STAT })) +
    hex(encodeReply({ xid: 5, zxid: 10, err: -103 }, 5));
  assert.equal(hex(all), expected);
});
