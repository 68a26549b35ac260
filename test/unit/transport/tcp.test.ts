import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { encodePlain } from '../../../src/protocol/peer-codec.js';
import { seededRandom } from '../../../src/runtime/random.js';
import { TcpTransport, type PeerAddress, type TcpTransportOptions } from '../../../src/transport/tcp.js';
import type { Transport } from '../../../src/transport/types.js';
import { conformanceSuite, pollUntil, record, type ConformanceHarness } from './conformance.js';

const SECRET = 'ensemble-secret';
const quick: Partial<TcpTransportOptions> = { reconnectInitialMs: 5, reconnectMaxMs: 100, handshakeTimeoutMs: 2000 };

function netResources(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP') || r === 'Timeout').length;
}

/** Start `ids.length` transports on free ports and give each the full address book. */
async function ensemble(ids: number[], extra: Partial<TcpTransportOptions> = {}): Promise<TcpTransport[]> {
  const transports = await Promise.all(
    ids.map((self) => TcpTransport.listen({ self, secret: SECRET, random: seededRandom(self), ...quick, ...extra })),
  );
  const book = transports.map((t) => [t.self, t.address()] as [number, PeerAddress]);
  for (const t of transports) t.setPeers(book);
  return transports;
}

function collectWarnings(t: Transport): string[] {
  const warnings: string[] = [];
  t.on('warning', (w) => warnings.push(w));
  return warnings;
}

conformanceSuite('TCP', async (n) => {
  const before = netResources();
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const endpoints = await ensemble(ids);
  const harness: ConformanceHarness = {
    ids,
    endpoint: (i) => endpoints[i]!,
    until: (cond, what) => pollUntil(cond, what),
    crash: (i) => endpoints[i]!.destroy(),
    restart: async (i) => {
      const fresh = await TcpTransport.listen({ self: ids[i]!, secret: SECRET, random: seededRandom(100 + i), ...quick });
      endpoints[i] = fresh;
      const book = endpoints.map((t) => [t.self, t.address()] as [number, PeerAddress]);
      for (const t of endpoints) t.setPeers(book);
      return fresh;
    },
    close: async () => {
      await Promise.all(endpoints.map((t) => t.close()));
    },
    assertClean: () => pollUntil(() => netResources() <= before, 'sockets, servers and timers released'),
  };
  return harness;
});

/** Open a raw socket to `t` and write `bytes` (then optionally end). Resolves when the transport closes it. */
async function rawConnection(t: TcpTransport, write: (s: net.Socket) => void): Promise<void> {
  const { host, port } = t.address();
  const socket = net.connect({ host, port });
  socket.on('error', () => {});
  socket.on('data', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  write(socket);
  await closed;
}

function frame(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

test('TCP: bad input closes only that connection, is reported, and the transport keeps serving', async () => {
  const [a, b] = await ensemble([1, 2]);
  try {
    const warnings = collectWarnings(a!);
    const recB = record(b!);
    const recA = record(a!);
    await pollUntil(() => recA.connected.has(2) && recB.connected.has(1), 'connected');
    const cases: [string, (s: net.Socket) => void, RegExp][] = [
      ['garbage', (s) => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /exceeds the limit/],
      ['garbage frame', (s) => s.write(frame(Buffer.from('not a codec value at all'))), /malformed handshake/],
      ['oversized length prefix', (s) => s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3])), /exceeds the limit/],
      ['truncated frame', (s) => s.end(Buffer.from([0, 0, 0, 50, 1, 2, 3])), /middle of a frame/],
      ['unknown id', (s) => s.write(frame(encodePlain({ t: 'hello', v: 1, id: 99, nonce: new Uint8Array(32) }))), /unknown server id 99/],
      ['own id', (s) => s.write(frame(encodePlain({ t: 'hello', v: 1, id: 1, nonce: new Uint8Array(32) }))), /unknown server id 1/],
      ['bad version', (s) => s.write(frame(encodePlain({ t: 'hello', v: 9, id: 2, nonce: new Uint8Array(32) }))), /version/],
      [
        'forged proof',
        (s) => {
          s.write(frame(encodePlain({ t: 'hello', v: 1, id: 2, nonce: new Uint8Array(32) })));
          s.write(frame(encodePlain({ t: 'proof', mac: new Uint8Array(32) })));
        },
        /authentication failed/,
      ],
    ];
    for (const [name, write, pattern] of cases) {
      const seen = warnings.length;
      await rawConnection(a!, write);
      await pollUntil(() => warnings.length > seen, `warning for ${name}`);
      assert.match(warnings[warnings.length - 1]!, pattern, name);
    }
    assert.ok(a!.stats.rejected >= cases.length);
    // The good peers never noticed, and still exchange messages.
    assert.deepEqual(recA.events, ['+2']);
    a!.send(2, [{ type: 'ack', zxid: 1 }]);
    b!.send(1, [{ type: 'ack', zxid: 2 }]);
    await pollUntil(() => recB.batches.has(1) && recA.batches.has(2), 'messages after the attacks');
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

test('TCP: a malformed batch from an authenticated peer closes that connection, then it reconnects', async () => {
  const [a, b] = await ensemble([1, 2]);
  try {
    const warnings = collectWarnings(a!);
    const recA = record(a!);
    const recB = record(b!);
    await pollUntil(() => recA.connected.has(2) && recB.connected.has(1), 'connected');
    // Reach into b's active socket to send a corrupt frame, as a buggy peer would.
    const sockets = (b as unknown as { peers: Map<number, { active: { socket: net.Socket } | null }> }).peers;
    sockets.get(1)!.active!.socket.write(frame(Uint8Array.of(1, 1, 1, 0x0c, 1, 0x3f)));
    await pollUntil(() => warnings.some((w) => /malformed batch/.test(w)), 'warning');
    await pollUntil(() => recA.events.length >= 3 && recA.connected.has(2) && recB.events.length >= 3 && recB.connected.has(1), 'reconnected');
    assert.deepEqual(recA.events, ['+2', '-2', '+2']);
    b!.send(1, [{ type: 'ack', zxid: 3 }]);
    await pollUntil(() => recA.batches.has(2), 'message after reconnect');
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

test('TCP: a peer with the wrong secret is rejected on both sides and logged; the others keep working', async () => {
  const [a, b] = await ensemble([1, 2]);
  const intruder = await TcpTransport.listen({ self: 3, secret: 'wrong', random: seededRandom(3), ...quick });
  try {
    const warningsA = collectWarnings(a!);
    const warningsI = collectWarnings(intruder);
    const recI = record(intruder);
    const recA = record(a!);
    await pollUntil(() => recA.connected.has(2), 'good pair connected');
    const book = [a!, b!, intruder].map((t) => [t.self, t.address()] as [number, PeerAddress]);
    a!.setPeers(book);
    intruder.setPeers(book);
    // 3 > 1: the intruder dials a; a's challenge MAC fails at the intruder, and the
    // intruder's pokes... every attempt is rejected somewhere.
    await pollUntil(() => warningsI.some((w) => /authentication failed/.test(w)), 'intruder rejects a');
    assert.deepEqual(recI.events, []);
    assert.equal(recA.connected.has(3), false);
    // a, the lower id, dials the intruder too: the intruder's challenge fails at a.
    await pollUntil(() => warningsA.some((w) => /authentication failed/.test(w)), 'a rejects the intruder');
    a!.send(2, [{ type: 'ack', zxid: 7 }]);
    const recB = record(b!);
    await pollUntil(() => recB.batches.has(1), 'good pair still exchanges');
  } finally {
    await Promise.all([a!.close(), b!.close(), intruder.close()]);
  }
});

test('TCP: duplicate connections resolve to the one dialled by the higher id, with one connected each', async () => {
  for (let round = 0; round < 5; round++) {
    const [a, b] = await ensemble([1, 2]);
    const recA = record(a!);
    const recB = record(b!);
    try {
      await pollUntil(() => recA.connected.has(2) && recB.connected.has(1), 'connected');
      a!.send(2, [{ type: 'ack', zxid: 1 }]);
      await pollUntil(() => recB.batches.has(1), 'message');
      assert.deepEqual(recA.events, ['+2']);
      assert.deepEqual(recB.events, ['+1']);
      const inner = (t: TcpTransport) => (t as unknown as { peers: Map<number, { active: { dialer: boolean } | null }> }).peers;
      assert.equal(inner(b!).get(1)!.active!.dialer, true, 'the higher id dialled the surviving connection');
      assert.equal(inner(a!).get(2)!.active!.dialer, false);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  }
});

test('TCP: a lower id that restarts is dialled back at once (no backoff wait)', async () => {
  const [a, b] = await ensemble([1, 2], { reconnectInitialMs: 60_000, reconnectMaxMs: 60_000 });
  let a2: TcpTransport | undefined;
  try {
    const recB = record(b!);
    await pollUntil(() => recB.connected.has(1), 'connected');
    await a!.destroy();
    await pollUntil(() => !recB.connected.has(1), 'b sees a gone');
    // b now waits ~a minute before re-dialling; a's poke must make it dial back now.
    a2 = await TcpTransport.listen({ self: 1, secret: SECRET, random: seededRandom(9), ...quick, peers: [[2, b!.address()]] });
    b!.setPeer(1, a2.address());
    const rec2 = record(a2);
    await pollUntil(() => rec2.connected.has(2) && recB.connected.has(1), 'reconnected through the dial-back');
    assert.deepEqual(recB.events, ['+1', '-1', '+1']);
  } finally {
    await Promise.all([a!.close(), b!.close(), a2?.close()]);
  }
});

test('TCP: a slow reader past maxBufferedBytes is disconnected, never silently skipped', async () => {
  const [a, b] = await ensemble([1, 2], { maxBufferedBytes: 1 << 20 });
  try {
    const warnings = collectWarnings(a!);
    const recA = record(a!);
    const recB = record(b!);
    await pollUntil(() => recA.connected.has(2) && recB.connected.has(1), 'connected');
    // Stop b reading so a's socket buffer fills up.
    const inner = (b as unknown as { peers: Map<number, { active: { socket: net.Socket } | null }> }).peers;
    inner.get(1)!.active!.socket.pause();
    const chunk = new Uint8Array(256 * 1024);
    for (let i = 0; i < 200 && recA.connected.has(2); i++) {
      a!.send(2, [{ type: 'snap', zxid: i, chunk, last: false }]);
      await new Promise((r) => setImmediate(r));
    }
    await pollUntil(() => !recA.connected.has(2), 'a drops the slow connection');
    assert.ok(warnings.some((w) => /reads too slowly/.test(w)));
    assert.equal(a!.stats.overflows, 1);
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

test('TCP: a batch over the frame limit closes the connection with a warning; smaller ones are split across frames', async () => {
  const [a, b] = await ensemble([1, 2], { maxFrameBytes: 4096 });
  try {
    const warnings = collectWarnings(a!);
    const recA = record(a!);
    const recB = record(b!);
    await pollUntil(() => recA.connected.has(2) && recB.connected.has(1), 'connected');
    // Ten 1 KiB batches in one tick: more than one frame can hold, so they are split.
    for (let i = 0; i < 10; i++) a!.send(2, [{ type: 'snap', zxid: i, chunk: new Uint8Array(1024), last: false }]);
    await pollUntil(() => (recB.batches.get(1)?.length ?? 0) === 10, 'split batches delivered');
    assert.deepEqual(recB.batches.get(1)!.map((batch) => (batch[0] as { zxid: number }).zxid), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    a!.send(2, [{ type: 'snap', zxid: 1, chunk: new Uint8Array(8192), last: true }]);
    await pollUntil(() => !recA.connected.has(2), 'closed rather than skipped');
    assert.ok(warnings.some((w) => /exceeds the frame limit/.test(w)));
    assert.equal(a!.stats.oversized, 1);
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

test('TCP over TLS: connects, exchanges, closes', async () => {
  const key = readFileSync(new URL('./fixtures/tls/key.pem', import.meta.url));
  const cert = readFileSync(new URL('./fixtures/tls/cert.pem', import.meta.url));
  const tlsOptions = { server: { key, cert }, client: { ca: [cert], servername: 'localhost' } };
  const [a, b, c] = await ensemble([1, 2, 3], { tls: tlsOptions });
  try {
    const recs = [a!, b!, c!].map(record);
    await pollUntil(() => recs.every((r) => r.connected.size === 2), 'all connected over TLS');
    a!.send(3, [{ type: 'ping', zxid: 1, touches: [{ sessionId: 2n ** 63n - 1n, timeout: 1 }] }]);
    await pollUntil(() => recs[2]!.batches.has(1), 'message over TLS');
    assert.deepEqual(recs[2]!.batches.get(1), [[{ type: 'ping', zxid: 1, touches: [{ sessionId: 2n ** 63n - 1n, timeout: 1 }] }]]);
  } finally {
    await Promise.all([a!.close(), b!.close(), c!.close()]);
  }
});

test('TCP: a connection that stalls the handshake times out with a warning', async () => {
  const [a, b] = await ensemble([1, 2], { handshakeTimeoutMs: 100 });
  try {
    const warnings = collectWarnings(a!);
    const recA = record(a!);
    await pollUntil(() => recA.connected.has(2), 'connected');
    await rawConnection(a!, () => {}); // connects, says nothing
    assert.ok(warnings.some((w) => /handshake timed out/.test(w)));
    a!.send(2, [{ type: 'ack', zxid: 1 }]);
    const recB = record(b!);
    await pollUntil(() => recB.batches.has(1), 'still serving');
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

test('TCP: peers missing from the address book are dropped; unknown destinations are counted', async () => {
  const [a, b] = await ensemble([1, 2]);
  try {
    const recA = record(a!);
    await pollUntil(() => recA.connected.has(2), 'connected');
    a!.setPeers([[1, a!.address()]]); // 2 removed
    await pollUntil(() => !recA.connected.has(2), 'disconnected on removal');
    a!.send(2, [{ type: 'ack', zxid: 1 }]);
    a!.send(5, [{ type: 'ack', zxid: 1 }]);
    assert.equal(a!.stats.droppedBatches, 2);
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

test('TCP over TLS: a dialer that does not trust the certificate logs it and never connects', async () => {
  const key = readFileSync(new URL('./fixtures/tls/key.pem', import.meta.url));
  const cert = readFileSync(new URL('./fixtures/tls/cert.pem', import.meta.url));
  const good = { server: { key, cert }, client: { ca: [cert], servername: 'localhost' } };
  const untrusting = { server: { key, cert }, client: { servername: 'localhost' } };
  const a = await TcpTransport.listen({ self: 1, secret: SECRET, random: seededRandom(1), ...quick, tls: good });
  const b = await TcpTransport.listen({ self: 2, secret: SECRET, random: seededRandom(2), ...quick, tls: untrusting });
  try {
    const warningsB = collectWarnings(b);
    const book: [number, PeerAddress][] = [
      [1, a.address()],
      [2, b.address()],
    ];
    a.setPeers(book);
    b.setPeers(book);
    await pollUntil(() => warningsB.some((w) => /failed: .*certificate/i.test(w)), 'certificate warning');
    assert.deepEqual(b.connectedPeers(), []);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('TCP: with acceptUnknownPeers a higher unknown id that knows us is accepted, a lower one refused; neither without it', async () => {
  const member = await TcpTransport.listen({ self: 5, secret: SECRET, random: seededRandom(5), ...quick, acceptUnknownPeers: true });
  const strict = await TcpTransport.listen({ self: 6, secret: SECRET, random: seededRandom(6), ...quick });
  const strictWarnings = collectWarnings(strict);
  const joiner = await TcpTransport.listen({ self: 9, secret: SECRET, random: seededRandom(9), ...quick });
  const lower = await TcpTransport.listen({ self: 2, secret: SECRET, random: seededRandom(2), ...quick });
  const memberWarnings = collectWarnings(member);
  try {
    const rec = record(member);
    const joinerRec = record(joiner);
    // The joiner's book lists the members; theirs do not list it.
    joiner.setPeers([[5, member.address()], [6, strict.address()]]);
    lower.setPeers([[5, member.address()]]);
    await pollUntil(() => rec.connected.has(9) && joinerRec.connected.has(5), 'the joiner connected to the tolerant member');
    joiner.send(5, [{ type: 'ack', zxid: 7 }]);
    member.send(9, [{ type: 'ack', zxid: 8 }]);
    await pollUntil(() => rec.batches.has(9) && joinerRec.batches.has(5), 'both ways');
    await pollUntil(() => memberWarnings.some((w) => /unknown server id 2/.test(w)), 'the lower unknown id refused');
    await pollUntil(() => strictWarnings.some((w) => /unknown server id 9/.test(w)), 'the strict member refused the joiner');
    assert.equal(joinerRec.connected.has(6), false);
    // Gone once it disconnects: nothing dials it, and nothing is sent to it.
    await joiner.close();
    await pollUntil(() => !rec.connected.has(9), 'disconnected');
    member.send(9, [{ type: 'ack', zxid: 9 }]);
    assert.equal(member.stats.droppedBatches, 1);
    assert.deepEqual(member.connectedPeers(), []);
  } finally {
    await Promise.all([member.close(), strict.close(), joiner.close(), lower.close()]);
  }
});
