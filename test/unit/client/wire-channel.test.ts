import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { createClient } from '../../../src/client/client.js';
import type { WatchEvent } from '../../../src/client/types.js';
import { decodeConnectRequest, encodeConnectResponse } from '../../../src/protocol/codec-records.js';
import { decodeRequest, type DecodedRequest } from '../../../src/protocol/codec-requests.js';
import { encodeHeaderReply, encodeNotification, encodeReply } from '../../../src/protocol/codec-responses.js';
import { EventType, OpCode } from '../../../src/protocol/constants.js';
import { ConnectionLossError, NoNodeError } from '../../../src/protocol/errors.js';
import { FrameDecoder } from '../../../src/protocol/frame.js';
import type { ConnectRequest, Stat } from '../../../src/protocol/records.js';
import { seededRandom } from '../../../src/runtime/random.js';

const STAT: Stat = {
  czxid: 5,
  mzxid: 6,
  ctime: 7,
  mtime: 8,
  version: 1,
  cversion: 2,
  aversion: 3,
  ephemeralOwner: 0x0100000000000001n,
  dataLength: 2,
  numChildren: 0,
  pzxid: 5,
};

/** A tiny fake ZooKeeper speaking the real wire format, answering a few opcodes. */
async function fakeServer(onRequest: (socket: Socket, decoded: DecodedRequest) => void) {
  const handshakes: ConnectRequest[] = [];
  const frames: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const decoder = new FrameDecoder();
    let handshaken = false;
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
        if (!handshaken) {
          handshaken = true;
          const request = decodeConnectRequest(frame);
          handshakes.push(request);
          socket.write(
            encodeConnectResponse({ protocolVersion: 0, timeOut: 4000, sessionId: 0x42n, passwd: new Uint8Array(16).fill(1), readOnly: request.readOnly === undefined ? undefined : false }),
          );
          continue;
        }
        frames.push(frame.length);
        onRequest(socket, decodeRequest(frame));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    handshakes,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('the wire channel frames requests, decodes replies by opcode, notifications and split frames', async () => {
  const server = await fakeServer((socket, { header, request }) => {
    const zxid = 0x100 + header.xid;
    switch (request.type) {
      case OpCode.getData: {
        // Reply one byte at a time to exercise frame reassembly.
        const bytes = encodeReply({ xid: header.xid, zxid, err: 0 }, OpCode.getData, { data: Buffer.from('hi'), stat: STAT });
        for (const b of bytes) socket.write(Uint8Array.of(b));
        break;
      }
      case OpCode.create:
        // The notification precedes the write's reply; both in one chunk.
        socket.write(Buffer.concat([encodeNotification({ type: EventType.NodeCreated, state: 3, path: request.path }), encodeReply({ xid: header.xid, zxid, err: 0 }, OpCode.create, { path: request.path })]));
        break;
      case OpCode.exists:
        socket.write(encodeHeaderReply(header.xid, zxid, -101));
        break;
      case OpCode.closeSession:
        socket.write(encodeHeaderReply(header.xid, zxid, 0));
        socket.end();
        break;
      default:
        socket.write(encodeHeaderReply(header.xid, zxid, 0));
    }
  });
  const client = createClient(`127.0.0.1:${server.port}`, { random: seededRandom(1), sessionTimeout: 4000 });
  try {
    await client.waitUntilConnected();
    assert.equal(server.handshakes[0]!.readOnly, false, 'the trailing readOnly byte is sent');
    assert.equal(client.sessionId, 0x42n);
    const events: WatchEvent[] = [];
    assert.equal(await client.exists('/n', { watch: (e) => events.push(e) }), null);
    const [data, created] = await Promise.all([client.getData('/d'), client.create('/n', 'x')]);
    assert.equal(data.data!.toString(), 'hi');
    assert.deepEqual(data.stat, STAT);
    assert.equal(created, '/n');
    assert.deepEqual(events, [{ type: 'NodeCreated', state: 'SyncConnected', path: '/n' }]);
    assert.ok(client.lastZxidSeen > 0x100);
  } finally {
    await client.close();
    await server.close();
  }
  assert.equal(client.state, 'CLOSED');
});

test('a connection the server drops fails requests in flight with ConnectionLoss and the client reconnects', async () => {
  let drop = true;
  const server = await fakeServer((socket, { header }) => {
    if (drop) {
      drop = false;
      socket.destroy();
      return;
    }
    socket.write(encodeHeaderReply(header.xid, 0x200, -101));
  });
  const client = createClient(`127.0.0.1:${server.port}`, { random: seededRandom(1), sessionTimeout: 4000, reconnectDelay: 0, spinDelay: 10 });
  const states: string[] = [];
  client.on('state', (s) => states.push(s));
  try {
    await client.waitUntilConnected();
    await assert.rejects(client.getData('/x'), ConnectionLossError);
    await client.waitUntilConnected();
    await assert.rejects(client.getData('/x'), NoNodeError);
    assert.deepEqual(states, ['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
    assert.equal(server.handshakes[1]!.sessionId, 0x42n);
  } finally {
    await client.close();
    await server.close();
  }
});
