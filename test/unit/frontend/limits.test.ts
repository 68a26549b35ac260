/**
 * The client port's limits: jute.maxbuffer, maxClientCnxns, requests in flight per
 * connection and per port (reading paused, then resumed), the handshake timeout, slow
 * senders and clients that do not read their replies. Each affects only its own
 * connection.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode } from '../../../src/protocol/constants.js';
import { DEFAULT_CLIENT_PORT_LIMITS, resolveLimits } from '../../../src/server/limits.js';
import { RawClient, eventually, fourLetterWord, openSession, scriptedPortFixture } from './harness.js';

const { setup, track } = scriptedPortFixture();

const getData = (path: string) => ({ type: OpCode.getData, path, watch: false }) as const;

test('resolveLimits: ZooKeeper defaults, overrides, and clear errors', () => {
  assert.deepEqual(resolveLimits(), DEFAULT_CLIENT_PORT_LIMITS);
  assert.equal(DEFAULT_CLIENT_PORT_LIMITS.maxBuffer, 0xfffff);
  assert.equal(DEFAULT_CLIENT_PORT_LIMITS.maxClientCnxns, 60);
  assert.equal(resolveLimits({ maxClientCnxns: 0 }).maxClientCnxns, 0);
  assert.throws(() => resolveLimits({ maxBuffer: 0 }), /maxBuffer must be an integer >= 1/);
  assert.throws(() => resolveLimits({ handshakeTimeoutMs: 1.5 }), /handshakeTimeoutMs/);
});

describe('jute.maxbuffer', () => {
  test('a frame at the limit passes, one byte over closes the connection', async () => {
    const { address, acceptor, logs } = await setup({ limits: { maxBuffer: 100 } });
    const client = track(await openSession(address));
    const path = '/' + 'p'.repeat(100 - 8 - 4 - 1 - 1); // header 8 + len 4 + path + watch 1 = 100
    client.send(1, getData(path));
    const [reply] = await client.next();
    assert.ok(reply?.kind === 'reply' && reply.header.err === 0);
    client.send(2, getData(path + 'x'));
    await client.waitClosed();
    assert.equal(acceptor.connections[0]!.requests.length, 1);
    assert.match(logs[0]!, /frame length 101 out of range \[0, 100\]/);
  });
});

describe('maxClientCnxns', () => {
  test('connections beyond the per-address limit are closed at once; a freed slot is reusable', async () => {
    const { address, port, logs } = await setup({ limits: { maxClientCnxns: 2 } });
    const a = track(await openSession(address));
    const b = track(await openSession(address));
    const c = track(new RawClient(address));
    await c.connected();
    c.handshake();
    await c.waitClosed();
    assert.equal(c.chunks.length, 0);
    assert.deepEqual(logs, ['Too many connections from /127.0.0.1 - max is 2']);
    assert.equal(b.closed, false);
    a.destroy();
    await eventually(() => port.connectionCount === 1, 'the slot to be freed');
    track(await openSession(address));
  });

  test('0 means unlimited', async () => {
    const { address } = await setup({ limits: { maxClientCnxns: 0 } });
    const sessions = await Promise.all(Array.from({ length: 70 }, () => openSession(address)));
    sessions.forEach(track);
    assert.equal(sessions.filter((s) => s.closed).length, 0);
  });
});

describe('requests in flight', () => {
  test('per connection: reading stops at the limit and resumes as replies go out, in order', async () => {
    const { address, acceptor } = await setup({ limits: { maxOutstandingPerConnection: 3 } });
    acceptor.answer = () => 'hold';
    const client = track(await openSession(address));
    const frames = [];
    for (let xid = 1; xid <= 10; xid++) frames.push(client.requestBytes(xid, getData(`/${xid}`)));
    client.write(Buffer.concat(frames));
    const pipeline = acceptor.connections[0]!;
    await eventually(() => pipeline.requests.length === 3, '3 dispatched');
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(pipeline.requests.length, 3, 'nothing beyond the limit is dispatched');
    while (pipeline.requests.length < 10) {
      pipeline.release(1);
      await eventually(() => pipeline.held.length > 0 || pipeline.requests.length === 10, 'the next request');
    }
    pipeline.release();
    const replies = await client.next(10);
    assert.deepEqual(
      replies.map((r) => (r.kind === 'reply' ? r.header.xid : 0)),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    assert.equal(pipeline.maxOutstanding, 3);
  });

  test('per port: connections stop reading while the port total is at the limit, others still get replies', async () => {
    const { address, acceptor, port } = await setup({ limits: { globalOutstandingLimit: 4 } });
    acceptor.answer = () => 'hold';
    const a = track(await openSession(address));
    const b = track(await openSession(address));
    const burst = (client: RawClient, base: number) => Buffer.concat(Array.from({ length: 5 }, (_, i) => client.requestBytes(base + i, getData('/g'))));
    a.write(burst(a, 1));
    await eventually(() => port.totalOutstanding === 4, 'the port to fill up');
    b.write(burst(b, 100));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const [pa, pb] = acceptor.connections;
    assert.equal(pa!.requests.length + pb!.requests.length, 4);
    assert.equal(pb!.requests.length, 0);
    acceptor.answer = () => 'reply';
    pa!.release();
    await eventually(() => pb!.requests.length === 5 && pa!.requests.length === 5, 'both to be dispatched');
    pa!.release();
    pb!.release();
    await a.next(5);
    await b.next(5);
    assert.equal(port.totalOutstanding, 0);
  });

  test('a client that does not read its replies stops being read; others are unaffected', async () => {
    const { address, acceptor } = await setup({ limits: { maxPendingOutputBytes: 64 * 1024 } });
    const slow = track(await openSession(address));
    slow.socket.pause(); // reads nothing: replies (each ~50 KiB) pile up in the kernel, then in the server
    const count = 400;
    const long = '/' + 'x'.repeat(50_000);
    slow.write(Buffer.concat(Array.from({ length: count }, (_, i) => slow.requestBytes(i + 1, getData(`${long}/${i}`)))));
    const pipeline = acceptor.connections[0]!;
    await eventually(() => pipeline.requests.length > 0, 'the first requests');
    let last = -1;
    while (pipeline.requests.length !== last) {
      last = pipeline.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(last < count, `dispatched ${last} of ${count} while the client read nothing`);
    const other = track(await openSession(address));
    other.send(1, getData('/x'));
    const [reply] = await other.next();
    assert.ok(reply?.kind === 'reply' && reply.header.err === 0);
    slow.socket.resume();
    const replies = await slow.next(count);
    assert.equal(replies.length, count);
    assert.equal(pipeline.requests.length, count);
  });
});

describe('handshake timeout and slow senders', () => {
  test('a connection that never completes the handshake is closed after the timeout', async () => {
    const { address, logs } = await setup({ limits: { handshakeTimeoutMs: 100 } });
    const idle = track(new RawClient(address));
    await idle.connected();
    await idle.waitClosed();
    assert.match(logs[0]!, /no handshake within 100 ms/);
  });

  test('a slow sender trickling one frame holds only its own connection', async () => {
    const { address, acceptor } = await setup();
    const slow = track(await openSession(address));
    const frame = slow.requestBytes(1, getData('/slow/path'));
    const other = track(await openSession(address));
    for (let i = 0; i < frame.length - 1; i++) {
      slow.write(frame.subarray(i, i + 1));
      other.send(i + 1, getData('/fast'));
      const [reply] = await other.next();
      assert.ok(reply?.kind === 'reply');
    }
    assert.equal(acceptor.connections[0]!.requests.length, 0);
    slow.write(frame.subarray(frame.length - 1));
    const [reply] = await slow.next();
    assert.ok(reply?.kind === 'reply' && reply.header.xid === 1);
  });

  test('four-letter words answer while clients are throttled', async () => {
    const { address, acceptor } = await setup({ limits: { maxOutstandingPerConnection: 1 } });
    acceptor.answer = () => 'hold';
    const client = track(await openSession(address));
    client.write(Buffer.concat([client.requestBytes(1, getData('/a')), client.requestBytes(2, getData('/b'))]));
    await eventually(() => acceptor.connections[0]!.requests.length === 1, 'one dispatched');
    assert.equal(await fourLetterWord(address, 'ruok'), 'imok');
    const cons = await fourLetterWord(address, 'cons');
    assert.match(cons, /\[0\]\(queued=1,recved=2,sent=1,sid=0x100000000000001,/);
    acceptor.connections[0]!.release();
  });
});
