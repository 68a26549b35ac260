/**
 * Fuzzing the client port: 100,000 random and mutated frames (mutations of real captured
 * frames, reference §14, and of every request type the codec encodes), sent over many
 * concurrent connections in random TCP chunks, against a running 3-server zoostate
 * ensemble, while a normal client works through it. Afterwards every server answers
 * `ruok`, the normal client saw no error and no disconnect, and the heap (after GC) is
 * back near where it started. Seeded: a failure prints the seed (ZOOSTATE_FUZZ_SEED
 * replays it). Run with `npm run test:compat`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createClient } from '../../../src/client/client.js';
import { encodeConnectRequest } from '../../../src/protocol/codec-records.js';
import { encodeRequest } from '../../../src/protocol/codec-requests.js';
import { AddWatchMode, CreateMode, OpCode, WatcherType } from '../../../src/protocol/constants.js';
import { FOUR_LETTER_WORDS } from '../../../src/protocol/frame.js';
import type { ClientRequest } from '../../../src/protocol/records.js';
import { seededRandom, type Random } from '../../../src/runtime/random.js';
import { startEnsemble } from '../../../src/server/ensemble.js';
import { serveEnsemble } from '../../../src/server/serve.js';
import { fourLetterWord } from '../../unit/frontend/harness.js';

const TOTAL_FRAMES = 100_000;
const CONCURRENCY = 16;
const HEAP_SLACK_BYTES = 48 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Frames captured from real clients (reference §14), with their length prefix. */
const CAPTURED: Buffer[] = [
  hex('0000002d 00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000 00'), // Java connect
  hex('0000002d 00000000 0000000000000000 00002710 0000000000000000 00000010 00000000000000000000000000000000 00'), // kazoo connect
  hex('0000002c 00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000'), // node connect
  hex('00000017 00000001 00000004 0000000a 2f7a6f6f6b6565706572 01'), // getData /zookeeper watch
  hex('00000008 fffffffe 0000000b'), // ping
  hex('00000008 00000008 fffffff5'), // closeSession
];

const CONNECT_FRAMES = CAPTURED.slice(0, 3);
/** Captured request frames that keep the session open (not closeSession). */
const CAPTURED_REQUESTS = CAPTURED.slice(3, 5);

/** One of every request type the codec encodes (but `check` outside multi and closeSession, which end the connection). */
function requestSeeds(): Buffer[] {
  const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  const requests: ClientRequest[] = [
    { type: OpCode.create, path: '/fz/a', data: new Uint8Array([1, 2, 3]), acl, flags: CreateMode.EPHEMERAL },
    { type: OpCode.create2, path: '/fz/b', data: null, acl, flags: CreateMode.PERSISTENT_SEQUENTIAL },
    { type: OpCode.createContainer, path: '/fz/c', data: null, acl, flags: CreateMode.CONTAINER },
    { type: OpCode.createTTL, path: '/fz/t', data: null, acl, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000 },
    { type: OpCode.delete, path: '/fz/a', version: -1 },
    { type: OpCode.exists, path: '/fz', watch: true },
    { type: OpCode.getData, path: '/zookeeper/config', watch: true },
    { type: OpCode.setData, path: '/fz/a', data: new Uint8Array(40), version: 3 },
    { type: OpCode.getACL, path: '/' },
    { type: OpCode.setACL, path: '/fz/a', acl, version: -1 },
    { type: OpCode.getChildren, path: '/', watch: true },
    { type: OpCode.getChildren2, path: '/zookeeper', watch: false },
    { type: OpCode.sync, path: '/' },
    { type: OpCode.ping },
    {
      type: OpCode.multi,
      ops: [
        { type: OpCode.create, path: '/fz/m', data: null, acl, flags: 0 },
        { type: OpCode.check, path: '/fz/m', version: 0 },
        { type: OpCode.setData, path: '/fz/m', data: new Uint8Array(2), version: -1 },
        { type: OpCode.delete, path: '/fz/m', version: -1 },
      ],
    },
    { type: OpCode.multiRead, ops: [{ type: OpCode.getData, path: '/' }, { type: OpCode.getChildren, path: '/' }] },
    { type: OpCode.checkWatches, path: '/', watcherType: WatcherType.Any },
    { type: OpCode.removeWatches, path: '/', watcherType: WatcherType.Data },
    { type: OpCode.addWatch, path: '/fz', mode: AddWatchMode.PERSISTENT_RECURSIVE },
    { type: OpCode.setWatches, relativeZxid: 0, dataWatches: ['/a'], existWatches: ['/b'], childWatches: ['/'], persistentWatches: [], persistentRecursiveWatches: [] },
    { type: OpCode.setWatches2, relativeZxid: 5, dataWatches: [], existWatches: [], childWatches: [], persistentWatches: ['/'], persistentRecursiveWatches: ['/fz'] },
    { type: OpCode.auth, authType: 0, scheme: 'digest', auth: new TextEncoder().encode('u:p') },
    { type: OpCode.getEphemerals, prefixPath: '/' },
    { type: OpCode.getAllChildrenNumber, path: '/' },
    { type: OpCode.whoAmI },
    { type: OpCode.sasl, token: new Uint8Array(8) },
    { type: OpCode.reconfig, joiningServers: 'x', leavingServers: null, newMembers: null, curConfigId: -1n },
  ];
  return requests.map((r, i) => Buffer.from(encodeRequest(i + 1, r)));
}

function randomBytes(random: Random, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = random.int(256);
  return b;
}

/**
 * A mutation of a request frame that keeps its framing and header intact (length prefix
 * fixed up, xid and a known opcode kept): the server must parse the body and answer —
 * a result, an error code, or -5 — and keep the connection.
 */
function mutateBody(random: Random, seed: Buffer): Buffer {
  const frame = Buffer.from(seed);
  const bodyAt = 12;
  switch (random.int(5)) {
    case 0: {
      // flip a few bits of the body
      if (frame.length > bodyAt) for (let i = 1 + random.int(4); i > 0; i--) frame[bodyAt + random.int(frame.length - bodyAt)]! ^= 1 << random.int(8);
      return frame;
    }
    case 1: {
      // overwrite a body byte with an interesting value
      if (frame.length > bodyAt) frame[bodyAt + random.int(frame.length - bodyAt)] = [0x00, 0xff, 0x7f, 0x80, 0x01][random.int(5)]!;
      return frame;
    }
    case 2: {
      // truncate the body
      const out = Buffer.from(frame.subarray(0, bodyAt + random.int(Math.max(1, frame.length - bodyAt))));
      out.writeInt32BE(out.length - 4, 0);
      return out;
    }
    case 3: {
      // trailing random bytes (ZooKeeper ignores what follows a record)
      const out = Buffer.concat([frame, randomBytes(random, 1 + random.int(64))]);
      out.writeInt32BE(out.length - 4, 0);
      return out;
    }
    default: {
      // a jute length inside the body set to something hostile
      if (frame.length >= bodyAt + 4) frame.writeInt32BE([-1, -2, 0x7fffffff, 1 << 20, 0, 3][random.int(6)]!, bodyAt + random.int(frame.length - bodyAt - 3));
      return frame;
    }
  }
}

/** A mutation that may break the framing or the header (the server then closes the connection). */
function mutateAny(random: Random, seed: Buffer): Buffer {
  const frame = Buffer.from(seed);
  switch (random.int(5)) {
    case 0: {
      // flip bits anywhere, length prefix included
      for (let i = 1 + random.int(4); i > 0; i--) frame[random.int(frame.length)]! ^= 1 << random.int(8);
      return frame;
    }
    case 1: {
      // a hostile length prefix
      frame.writeInt32BE([-1, 0, 1, 7, 0xfffff, 0x100000, 0x7fffffff, random.int(200)][random.int(8)]!, 0);
      return frame;
    }
    case 2: {
      // an unknown opcode (-6, then the connection closes)
      if (frame.length >= 12) frame.writeInt32BE([0, 10, 23, 55, 99, 108, 200, -5, -12][random.int(9)]!, 8);
      return frame;
    }
    case 3: {
      // a frame too short for its header
      const out = Buffer.from(frame.subarray(0, 4 + random.int(8)));
      out.writeInt32BE(out.length - 4, 0);
      return out;
    }
    default: {
      // garbage with a plausible length
      const body = randomBytes(random, random.int(48));
      const out = Buffer.allocUnsafe(4 + body.length);
      out.writeInt32BE(body.length, 0);
      body.copy(out, 4);
      return out;
    }
  }
}

/** What one fuzz connection sends. */
function plan(random: Random, requests: Buffer[]): Buffer {
  const roll = random.next();
  if (roll < 0.04) {
    // a four-letter word, sometimes damaged, with or without more bytes after it
    const word = Buffer.from(FOUR_LETTER_WORDS[random.int(FOUR_LETTER_WORDS.length)]!);
    if (random.chance(0.3)) word[random.int(4)] = random.int(256);
    return Buffer.concat([word, randomBytes(random, random.chance(0.5) ? 8 : 0)]);
  }
  if (roll < 0.08) return randomBytes(random, 1 + random.int(512));
  const connectSeed = CONNECT_FRAMES[random.int(CONNECT_FRAMES.length)]!;
  if (roll < 0.12) return Buffer.concat([mutateAny(random, connectSeed), randomBytes(random, random.int(64))]);
  const parts: Buffer[] = [connectSeed];
  const count = 1 + random.int(600);
  for (let i = 0; i < count; i++) {
    const seed = requests[random.int(requests.length)]!;
    parts.push(random.chance(0.3) ? seed : mutateBody(random, seed));
  }
  // Half the connections end with a frame that breaks the framing, the header or the session.
  if (random.chance(0.5)) parts.push(random.chance(0.2) ? CAPTURED[5]! : mutateAny(random, requests[random.int(requests.length)]!));
  return Buffer.concat(parts);
}

/** Send `bytes` in random chunks; resolve when the server closes, or after a quiet spell. */
function run(port: number, bytes: Buffer, random: Random): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let quiet: NodeJS.Timeout | undefined;
    const hard = setTimeout(() => socket.destroy(), 3000);
    const settle = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(() => socket.destroy(), 100);
    };
    socket.on('error', () => {});
    socket.on('data', settle);
    socket.on('close', () => {
      clearTimeout(quiet);
      clearTimeout(hard);
      resolve();
    });
    socket.on('connect', () => {
      let at = 0;
      while (at < bytes.length) {
        const n = random.chance(0.5) ? bytes.length - at : 1 + random.int(Math.min(200, bytes.length - at));
        socket.write(bytes.subarray(at, at + n));
        at += n;
      }
      settle();
    });
  });
}

test('100,000 fuzzed frames: the server keeps serving, a normal client is undisturbed, memory returns', { timeout: 300_000 }, async () => {
  const seed = Number(process.env['ZOOSTATE_FUZZ_SEED'] ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const ensemble = await startEnsemble({ servers: 3, tickTime: 100, session: { minSessionTimeout: 200, maxSessionTimeout: 1000 } });
  const ports = await serveEnsemble(ensemble, { port: 0, limits: { maxClientCnxns: 0 } });
  const client = createClient(ports.addresses[0]!, { sessionTimeout: 1000 });
  const problems: string[] = [];
  client.on('error', (error) => problems.push(`error: ${String(error)}`));
  try {
    await client.waitUntilConnected();
    client.on('state', (state) => problems.push(`state ${state}`));
    await client.create('/normal', 'x');
    await client.create('/fz', null);

    // The normal client's workload runs throughout.
    let stop = false;
    let ops = 0;
    const workload = (async () => {
      while (!stop) {
        try {
          await client.setData('/normal', String(ops));
          const { data } = await client.getData('/normal', { watch: () => {} });
          if (data?.toString() !== String(ops)) problems.push(`read ${data?.toString()} after writing ${ops}`);
          ops++;
        } catch (error) {
          problems.push(`operation failed: ${String(error)}`);
          return;
        }
      }
    })();

    const baseline = heapAfterGc();
    const requests = [...CAPTURED_REQUESTS, ...requestSeeds()];
    const received = (): number => ports.ports.reduce((n, p) => n + p.stats.packetsReceived, 0) - receivedBefore;
    const receivedBefore = ports.ports.reduce((n, p) => n + p.stats.packetsReceived, 0);
    let connections = 0;
    const started = Date.now();
    const lanes = Array.from({ length: CONCURRENCY }, async (_, lane) => {
      const laneRandom = random.fork(`lane${lane}`);
      while (received() < TOTAL_FRAMES && Date.now() - started < 240_000) {
        connections++;
        const server = ports.ports[laneRandom.int(ports.ports.length)]!;
        await run(server.address().port, plan(laneRandom, requests), laneRandom);
      }
    });
    await Promise.all(lanes);
    stop = true;
    await workload;
    const frames = received();
    assert.ok(frames >= TOTAL_FRAMES, `the servers received ${frames} frames over ${connections} connections (seed ${seed})`);

    // Every server still answers, and the normal client never noticed.
    for (const port of ports.ports) assert.equal(await fourLetterWord(port.address().port, 'ruok'), 'imok', `seed ${seed}`);
    assert.deepEqual(problems, [], `seed ${seed}`);
    assert.ok(ops > 0);

    // Remove what the fuzzer created, let its sessions expire, then compare the heap.
    for (const child of await client.getChildren('/')) {
      if (child === 'zookeeper' || child === 'normal') continue;
      const stack = [`/${child}`];
      const all: string[] = [];
      while (stack.length > 0) {
        const path = stack.pop()!;
        all.push(path);
        try {
          for (const c of await client.getChildren(path)) stack.push(`${path}/${c}`);
        } catch {
          // gone meanwhile
        }
      }
      for (const path of all.reverse()) await client.delete(path).catch(() => {});
    }
    const leader = ensemble.leader()!;
    const deadline = Date.now() + 20_000;
    while (leader.tree.sessions.size > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(leader.tree.sessions.size, 1, `fuzz sessions expired (seed ${seed})`);
    for (const port of ports.ports) assert.ok(port.connectionCount <= 1, `connections left: ${port.connectionCount}`);
    const after = heapAfterGc();
    assert.ok(after - baseline < HEAP_SLACK_BYTES, `heap grew ${((after - baseline) / 1048576).toFixed(1)} MB (seed ${seed})`);
  } finally {
    await client.close().catch(() => {});
    await ports.close();
    await ensemble.close();
  }
});
