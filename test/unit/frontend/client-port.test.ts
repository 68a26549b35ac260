/**
 * The client port's wire behaviour against a scripted pipeline: framing across TCP
 * chunks, the handshake (readOnly byte iff sent, expired sessions), pings and
 * notifications, -5/-6, batching, closing, and bad input closing only its own connection.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeConnectRequest } from '../../../src/protocol/codec-records.js';
import { OpCode } from '../../../src/protocol/constants.js';
import { RawClient, eventually, openSession, scriptedPortFixture } from './harness.js';

const { setup, track } = scriptedPortFixture();

const CONNECT_45 = encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false });

describe('handshake', () => {
  test('a Java-style ConnectRequest (45 bytes + readOnly) gets a 37-byte ConnectResponse', async () => {
    const { address, acceptor } = await setup();
    const client = track(new RawClient(address));
    await client.connected();
    client.write(CONNECT_45);
    const [frame] = await client.next();
    assert.equal(frame?.kind, 'connect');
    // length prefix 37 = 4+4+8+(4+16)+1
    assert.equal(Buffer.concat(client.chunks).readInt32BE(0), 37);
    assert.equal(acceptor.connections[0]!.connectRequest!.readOnly, false);
    assert.equal(acceptor.connections[0]!.info.remoteAddress, '127.0.0.1');
  });

  test('node-zookeeper-client style (no readOnly byte) gets 36 bytes', async () => {
    const { address } = await setup();
    const client = track(new RawClient(address));
    await client.connected();
    client.handshake({ readOnly: undefined });
    const [frame] = await client.next();
    assert.equal(frame?.kind, 'connect');
    assert.equal(Buffer.concat(client.chunks).readInt32BE(0), 36);
    assert.ok(frame?.kind === 'connect' && frame.response.readOnly === undefined);
  });

  test('an expired session gets timeOut 0, sessionId 0, 16 zero bytes, then the socket closes', async () => {
    const { address, acceptor } = await setup();
    acceptor.expireSessions = true;
    const client = track(new RawClient(address));
    await client.connected();
    client.handshake({ sessionId: 0x0100000000000042n, passwd: new Uint8Array(16).fill(1) });
    await client.waitClosed();
    assert.equal(
      Buffer.concat(client.chunks).toString('hex'),
      '00000025' + '00000000' + '00000000' + '0000000000000000' + '00000010' + '00'.repeat(16) + '00',
    );
    assert.equal(acceptor.connections[0]!.closedCalls, 0, 'the pipeline closed it: no closed() back');
  });

  test('frames pipelined behind the ConnectRequest wait for the handshake, then run in order', async () => {
    const { address, acceptor } = await setup();
    const client = track(new RawClient(address));
    await client.connected();
    const bytes = Buffer.concat([
      CONNECT_45,
      client.requestBytes(1, { type: OpCode.getData, path: '/a', watch: false }),
      client.requestBytes(2, { type: OpCode.getData, path: '/b', watch: false }),
    ]);
    client.write(bytes);
    const frames = await client.next(3);
    assert.deepEqual(
      frames.map((f) => f.kind),
      ['connect', 'reply', 'reply'],
    );
    assert.deepEqual(
      acceptor.connections[0]!.requests.map((r) => r.xid),
      [1, 2],
    );
  });
});

describe('framing', () => {
  test('a handshake and requests sent one byte at a time are reassembled', async () => {
    const { address, acceptor } = await setup();
    const client = track(new RawClient(address));
    await client.connected();
    const stream = Buffer.concat([CONNECT_45, client.requestBytes(7, { type: OpCode.exists, path: '/x/y', watch: true })]);
    for (const byte of stream) {
      client.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const frames = await client.next(2);
    assert.equal(frames[1]?.kind, 'reply');
    assert.deepEqual(acceptor.connections[0]!.requests[0], { xid: 7, request: { type: OpCode.exists, path: '/x/y', watch: true } });
  });

  test('many requests merged into one chunk are each answered, in order', async () => {
    const { address, acceptor } = await setup();
    const client = track(await openSession(address));
    const frames = [];
    for (let xid = 1; xid <= 50; xid++) frames.push(client.requestBytes(xid, { type: OpCode.getData, path: `/n${xid}`, watch: false }));
    client.write(Buffer.concat(frames));
    const replies = await client.next(50);
    assert.deepEqual(
      replies.map((r) => (r.kind === 'reply' ? r.header.xid : 0)),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const first = replies[0];
    assert.ok(first?.kind === 'reply');
    assert.equal(new TextDecoder().decode((first.body as { data: Uint8Array }).data), 'data of /n1');
    assert.equal(acceptor.connections[0]!.requests.length, 50);
  });

  test('replies produced in one tick leave in one socket write', async () => {
    const { address, port } = await setup();
    const client = track(await openSession(address));
    const before = port.socketWrites;
    const frames = [];
    for (let xid = 1; xid <= 20; xid++) frames.push(client.requestBytes(xid, { type: OpCode.getData, path: '/x', watch: false }));
    client.write(Buffer.concat(frames));
    await client.next(20);
    assert.ok(port.socketWrites - before < 20, `20 replies took ${port.socketWrites - before} writes`);
  });

  test('ping replies carry xid -2 and notifications xid -1, zxid -1, before the write reply', async () => {
    const { address } = await setup();
    const client = track(await openSession(address));
    client.send(-2, { type: OpCode.ping });
    client.send(5, { type: OpCode.setData, path: '/w', data: new Uint8Array([1]), version: -1 });
    const [ping, notification, reply] = await client.next(3);
    assert.ok(ping?.kind === 'reply' && ping.header.xid === -2 && ping.header.err === 0);
    assert.ok(notification?.kind === 'notification');
    assert.deepEqual(notification.header, { xid: -1, zxid: -1, err: 0 });
    assert.deepEqual(notification.event, { type: 3, state: 3, path: '/w' });
    assert.ok(reply?.kind === 'reply' && reply.header.xid === 5);
  });

  test('error replies are header-only', async () => {
    const { address } = await setup();
    const client = track(await openSession(address));
    client.send(3, { type: OpCode.getData, path: '/missing', watch: false });
    await client.until(() => client.pending >= 1, 'reply');
    const all = Buffer.concat(client.chunks);
    // after the 41-byte handshake frame: length 16 + header only
    assert.equal(all.subarray(41).toString('hex'), '00000010' + '00000003' + '0000000100000005' + 'ffffff9b');
  });
});

describe('bad input', () => {
  test('an unknown opcode is answered -6 (zxid -1) and the connection closed; the pipeline decides', async () => {
    const { address, acceptor, logs } = await setup();
    const client = track(await openSession(address));
    const frame = Buffer.from('0000000800000009' + '00000037', 'hex'); // xid 9, type 55
    client.write(frame);
    await client.waitClosed();
    const all = Buffer.concat(client.chunks);
    assert.equal(all.subarray(41).toString('hex'), '00000010' + '00000009' + 'ffffffffffffffff' + 'fffffffa');
    assert.deepEqual(acceptor.connections[0]!.invalids, [{ xid: 9, opcode: 55, err: -6 }]);
    assert.equal(logs.length, 1);
  });

  test('an unparsable body is answered -5 and the connection keeps working', async () => {
    const { address, acceptor } = await setup();
    const client = track(await openSession(address));
    // getData with a path length of 1000 but 2 bytes present.
    client.write(Buffer.from('0000000e' + '00000004' + '00000004' + '000003e8' + '2f61', 'hex'));
    client.send(5, { type: OpCode.getData, path: '/ok', watch: false });
    const [bad, good] = await client.next(2);
    assert.ok(bad?.kind === 'reply');
    assert.deepEqual(bad.header, { xid: 4, zxid: acceptor.zxid, err: -5 });
    assert.ok(good?.kind === 'reply' && good.header.xid === 5 && good.header.err === 0);
    assert.equal(client.closed, false);
  });

  test('garbage, truncated frames and oversized lengths close only their own connection', async () => {
    const { address, acceptor, logs } = await setup({ limits: { handshakeTimeoutMs: 300 } });
    const good = track(await openSession(address));

    const oversized = track(new RawClient(address));
    await oversized.connected();
    oversized.write(Buffer.from('00100000', 'hex')); // 1 MiB > 0xfffff
    const negative = track(new RawClient(address));
    await negative.connected();
    negative.write(Buffer.from('fffffff0', 'hex'));
    const garbage = track(new RawClient(address));
    await garbage.connected();
    garbage.write(Buffer.from('00000003616263', 'hex')); // a 3-byte "ConnectRequest"
    const shortHeader = track(await openSession(address));
    shortHeader.write(Buffer.from('0000000200ff', 'hex')); // a request frame too short for its header
    const truncated = track(new RawClient(address));
    await truncated.connected();
    truncated.write(CONNECT_45.subarray(0, 20)); // then nothing: the handshake timeout

    await Promise.all([oversized.waitClosed(), negative.waitClosed(), garbage.waitClosed(), shortHeader.waitClosed(), truncated.waitClosed()]);
    assert.equal(oversized.chunks.length, 0);
    assert.equal(negative.chunks.length, 0);
    assert.equal(garbage.chunks.length, 0);
    // The good client was never disturbed.
    good.send(1, { type: OpCode.getData, path: '/still', watch: false });
    const [reply] = await good.next();
    assert.ok(reply?.kind === 'reply' && reply.header.err === 0);
    assert.equal(good.closed, false);
    assert.equal(logs.length, 5, logs.join('\n'));
    assert.equal(acceptor.connections.find((c) => c === acceptor.connections[1])?.closedCalls, 1, 'the pipeline heard closed() for the short header');
  });

  test('a reply the pipeline cannot have meant (no body) closes that connection, earlier replies intact', async () => {
    const { address, logs } = await setup();
    const client = track(await openSession(address));
    client.write(Buffer.concat([client.requestBytes(1, { type: OpCode.exists, path: '/fine', watch: false }), client.requestBytes(2, { type: OpCode.exists, path: '/broken', watch: false })]));
    const [first] = await client.next();
    assert.ok(first?.kind === 'reply' && first.header.xid === 1 && first.header.err === 0);
    await client.waitClosed();
    assert.equal(client.pending, 0);
    assert.equal(logs.length, 1);
  });

  test('a pipeline that throws on a request closes that connection only', async () => {
    const { address, logs } = await setup();
    const bad = track(await openSession(address));
    const good = track(await openSession(address));
    bad.send(1, { type: OpCode.sync, path: '/throw' });
    await bad.waitClosed();
    assert.match(logs[0]!, /the server failed on opcode 9: a pipeline bug/);
    good.send(1, { type: OpCode.sync, path: '/fine' });
    const [reply] = await good.next();
    assert.ok(reply?.kind === 'reply' && reply.header.err === 0);
  });

  test('an unknown four-letter string is a huge frame length: closed, no output', async () => {
    const { address } = await setup();
    const client = track(new RawClient(address));
    await client.connected();
    client.write('xyzw');
    await client.waitClosed();
    assert.equal(client.text(), '');
  });
});

describe('closing', () => {
  test('closeSession: reply, then the server closes; nothing after it is dispatched', async () => {
    const { address, acceptor } = await setup();
    const client = track(await openSession(address));
    client.write(Buffer.concat([client.requestBytes(1, { type: OpCode.closeSession }), client.requestBytes(2, { type: OpCode.getData, path: '/late', watch: false })]));
    const [reply] = await client.next();
    assert.ok(reply?.kind === 'reply' && reply.header.xid === 1);
    await client.waitClosed();
    assert.deepEqual(
      acceptor.connections[0]!.requests.map((r) => r.xid),
      [1],
    );
  });

  test('a client that goes away is reported with closed() exactly once', async () => {
    const { address, acceptor, port } = await setup();
    const client = await openSession(address);
    client.destroy();
    await eventually(() => acceptor.connections[0]!.closedCalls === 1 && port.connectionCount === 0, 'closed()');
  });

  test('not serving: a ConnectRequest is closed without reply; open connections are closed when serving stops', async () => {
    const { address, acceptor, serving } = await setup();
    const open = track(await openSession(address));
    serving.set(false);
    await open.waitClosed();
    assert.equal(acceptor.connections[0]!.closedCalls, 1);

    const refused = track(new RawClient(address));
    await refused.connected();
    refused.handshake();
    await refused.waitClosed();
    assert.equal(refused.chunks.length, 0);
    assert.equal(acceptor.connections.length, 1, 'the pipeline never saw the refused connection');

    serving.set(true);
    track(await openSession(address));
  });

  test('closing the port closes every connection and the listener', async () => {
    const { address, port, acceptor } = await setup();
    const a = track(await openSession(address));
    const b = track(await openSession(address));
    await port.close();
    await Promise.all([a.waitClosed(), b.waitClosed()]);
    assert.deepEqual(
      acceptor.connections.map((c) => c.closedCalls),
      [1, 1],
    );
  });
});
