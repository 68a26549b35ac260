/**
 * Wire parity with Apache ZooKeeper 3.8: the same raw frames, sent over raw sockets to a
 * fresh Apache ZooKeeper (Debian's 3.8.0, standalone) and to a fresh zoostate server,
 * must get the same reply frames — same lengths, same headers and bodies — once the
 * values that legitimately differ (zxids, times, session ids and passwords) are masked.
 * Covers the handshake (readOnly byte iff sent), every opcode clients send, pings,
 * notifications (xid -1, zxid -1) before the write's reply, SetWatches catch-up, auth,
 * multi/multiRead, -5 for an unparsable body, -6 then close for an unknown opcode,
 * AuthFailed then close, and closeSession. Run with `npm run test:compat`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddWatchMode, CreateMode, OpCode, WatcherType } from '../../../src/protocol/constants.js';
import type { ClientRequest } from '../../../src/protocol/records.js';
import { RawClient, type ServerFrame } from '../../unit/frontend/harness.js';
import { apacheTarget, type CompatTarget } from '../targets.js';
import { zoostateTarget } from './target.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const ZXID_KEYS = new Set(['czxid', 'mzxid', 'pzxid', 'zxid', 'relativeZxid']);
const TIME_KEYS = new Set(['ctime', 'mtime']);

/** Mask what differs between servers by design; keep everything a client interprets. */
function mask(value: unknown, key = ''): unknown {
  if (typeof value === 'number' && ZXID_KEYS.has(key)) return value === 0 || value === -1 ? value : 'Z';
  if (typeof value === 'number' && TIME_KEYS.has(key)) return value === 0 ? 0 : 'T';
  if (typeof value === 'bigint') return key === 'sessionId' || key === 'ephemeralOwner' ? (value === 0n ? '0' : 'S') : value.toString();
  if (value instanceof Uint8Array) return key === 'passwd' ? `passwd(${value.length}${value.every((b) => b === 0) ? ',zero' : ''})` : Buffer.from(value).toString('hex');
  // ZooKeeper lists children in hash order; clients must not rely on any order.
  if (Array.isArray(value) && key === 'children') return [...value].sort();
  if (Array.isArray(value)) return value.map((v) => mask(v));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, k)]));
  return value;
}

function describe(frames: readonly ServerFrame[]): unknown[] {
  return frames.map((f) => {
    const { bytes: raw, ...rest } = f;
    return { length: raw.length, ...(mask(rest) as object) };
  });
}

/** Send a request and collect frames up to and including its reply. */
async function exchange(client: RawClient, xid: number, request: ClientRequest | Uint8Array): Promise<ServerFrame[]> {
  client.write(request instanceof Uint8Array ? request : client.requestBytes(xid, request));
  const frames: ServerFrame[] = [];
  for (;;) {
    const [frame] = await client.next();
    frames.push(frame!);
    if (frame!.kind === 'reply' && frame!.header.xid === xid) return frames;
  }
}

async function open(address: string, readOnly: boolean | undefined): Promise<{ client: RawClient; frames: ServerFrame[] }> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const client = new RawClient(port);
  await client.connected();
  client.handshake({ timeOut: 10_000, readOnly });
  return { client, frames: await client.next() };
}

/** The whole conversation; returns every frame each step produced, by step name. */
async function converse(target: CompatTarget): Promise<Array<[string, unknown[]]>> {
  const log: Array<[string, unknown[]]> = [];
  const step = (name: string, frames: ServerFrame[]): void => {
    log.push([name, describe(frames)]);
  };
  const address = target.servers[0]!;
  const a = await open(address, false);
  const b = await open(address, undefined);
  const c1 = a.client;
  const c2 = b.client;
  try {
    step('connect with readOnly byte', a.frames);
    step('connect without readOnly byte', b.frames);
    let xid = 0;
    const ask = async (name: string, request: ClientRequest, client = c1): Promise<void> => step(name, await exchange(client, ++xid, request));

    await ask('create', { type: OpCode.create, path: '/wp', data: bytes('root'), acl: OPEN, flags: CreateMode.PERSISTENT });
    await ask('create existing', { type: OpCode.create, path: '/wp', data: null, acl: OPEN, flags: 0 });
    await ask('create2', { type: OpCode.create2, path: '/wp/c', data: bytes('x'), acl: OPEN, flags: 0 });
    await ask('create sequential', { type: OpCode.create, path: '/wp/s-', data: null, acl: OPEN, flags: CreateMode.PERSISTENT_SEQUENTIAL });
    await ask('create ephemeral', { type: OpCode.create2, path: '/wp/e', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
    await ask('create under ephemeral', { type: OpCode.create, path: '/wp/e/x', data: null, acl: OPEN, flags: 0 });
    await ask('createContainer', { type: OpCode.createContainer, path: '/wp-cont', data: null, acl: OPEN, flags: CreateMode.CONTAINER });
    await ask('createTTL', { type: OpCode.createTTL, path: '/wp/t', data: null, acl: OPEN, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 60_000 });
    await ask('create bad path', { type: OpCode.create, path: 'wp', data: null, acl: OPEN, flags: 0 });
    await ask('create bad flags', { type: OpCode.create, path: '/wp/f', data: null, acl: OPEN, flags: 9 });
    await ask('create empty acl', { type: OpCode.create, path: '/wp/a', data: null, acl: [], flags: 0 });
    await ask('exists + watch', { type: OpCode.exists, path: '/wp', watch: true });
    await ask('exists missing + watch', { type: OpCode.exists, path: '/wp/nope', watch: true });
    await ask('getData + watch', { type: OpCode.getData, path: '/wp', watch: true });
    await ask('getChildren + watch', { type: OpCode.getChildren, path: '/wp', watch: true });
    await ask('getChildren2', { type: OpCode.getChildren2, path: '/wp', watch: false });
    await ask('getACL', { type: OpCode.getACL, path: '/wp' });
    await ask('setACL bad version', { type: OpCode.setACL, path: '/wp/c', acl: OPEN, version: 5 });
    await ask('setACL', { type: OpCode.setACL, path: '/wp/c', acl: OPEN, version: -1 });

    step('setData by another session', await exchange(c2, 1000, { type: OpCode.setData, path: '/wp', data: bytes('v2'), version: -1 }));
    step('its notification', await c1.next(1));
    step('create by another session', await exchange(c2, 1001, { type: OpCode.create, path: '/wp/nope', data: null, acl: OPEN, flags: 0 }));
    step('their notifications', await c1.next(2));

    await ask('setData own (no watch left)', { type: OpCode.setData, path: '/wp', data: bytes('v3'), version: 1 });
    await ask('setData bad version', { type: OpCode.setData, path: '/wp', data: bytes('v4'), version: 0 });
    await ask('sync', { type: OpCode.sync, path: '/wp' });
    await ask('getAllChildrenNumber', { type: OpCode.getAllChildrenNumber, path: '/wp' });
    await ask('getEphemerals', { type: OpCode.getEphemerals, prefixPath: '/wp' });
    await ask('whoAmI', { type: OpCode.whoAmI });
    await ask('multi ok', {
      type: OpCode.multi,
      ops: [
        { type: OpCode.create, path: '/wp/m', data: null, acl: OPEN, flags: 0 },
        { type: OpCode.check, path: '/wp/m', version: 0 },
        { type: OpCode.setData, path: '/wp/m', data: bytes('mm'), version: -1 },
        { type: OpCode.delete, path: '/wp/m', version: -1 },
      ],
    });
    await ask('multi failing', {
      type: OpCode.multi,
      ops: [
        { type: OpCode.setData, path: '/wp', data: bytes('no'), version: -1 },
        { type: OpCode.create, path: '/wp/c', data: null, acl: OPEN, flags: 0 },
        { type: OpCode.delete, path: '/wp/zzz', version: -1 },
      ],
    });
    await ask('multiRead', {
      type: OpCode.multiRead,
      ops: [
        { type: OpCode.getData, path: '/wp' },
        { type: OpCode.getChildren, path: '/wp' },
        { type: OpCode.getData, path: '/wp/missing' },
      ],
    });
    await ask('addWatch recursive', { type: OpCode.addWatch, path: '/wp', mode: AddWatchMode.PERSISTENT_RECURSIVE });
    await ask('checkWatches any', { type: OpCode.checkWatches, path: '/wp', watcherType: WatcherType.Any });
    await ask('removeWatches none', { type: OpCode.removeWatches, path: '/wp/c', watcherType: WatcherType.Data });
    await ask('getData + watch again', { type: OpCode.getData, path: '/wp/c', watch: true });
    await ask('setData fires recursive and data watch', { type: OpCode.setData, path: '/wp/c', data: bytes('y'), version: -1 });
    await ask('removeWatches any', { type: OpCode.removeWatches, path: '/wp', watcherType: WatcherType.Any });
    await ask('setWatches catch-up', {
      type: OpCode.setWatches,
      relativeZxid: 0,
      dataWatches: ['/wp', '/wp/gone'],
      existWatches: ['/wp/c', '/wp/absent'],
      childWatches: ['/wp', '/wp/gone-too'],
      persistentWatches: [],
      persistentRecursiveWatches: [],
    });
    await ask('setWatches2', {
      type: OpCode.setWatches2,
      relativeZxid: 0,
      dataWatches: [],
      existWatches: [],
      childWatches: [],
      persistentWatches: ['/wp/c'],
      persistentRecursiveWatches: ['/wp-cont'],
    });
    step('auth', await exchange(c1, -4, { type: OpCode.auth, authType: 0, scheme: 'digest', auth: bytes('u:p') }));
    step('ping', await exchange(c1, -2, { type: OpCode.ping }));
    // getData whose path claims 1000 bytes but has 2: MarshallingError, the connection stays.
    step('unparsable body', await exchange(c1, 77, Buffer.from('0000000e' + '0000004d' + '00000004' + '000003e8' + '2f61', 'hex')));
    await ask('delete bad version', { type: OpCode.delete, path: '/wp/c', version: 7 });
    await ask('delete not empty', { type: OpCode.delete, path: '/wp', version: -1 });
    await ask('delete', { type: OpCode.delete, path: '/wp/nope', version: -1 });
    await ask('delete missing', { type: OpCode.delete, path: '/wp/nope', version: -1 });
    await ask('closeSession', { type: OpCode.closeSession });
    await c1.waitClosed();
    step('closed after closeSession', []);

    const c3 = (await open(address, false)).client;
    step('unknown opcode', await exchange(c3, 9, Buffer.from('00000008' + '00000009' + '00000037', 'hex')));
    await c3.waitClosed();
    const c4 = (await open(address, false)).client;
    step('auth failure', await exchange(c4, -4, { type: OpCode.auth, authType: 0, scheme: 'nosuchscheme', auth: bytes('x') }));
    await c4.waitClosed();
    step('closed after AuthFailed', []);
    return log;
  } finally {
    c1.destroy();
    c2.destroy();
  }
}

test('the same frames get the same replies from Apache ZooKeeper 3.8 and zoostate', { timeout: 120_000 }, async () => {
  const settings = { servers: 1 as const, tickTime: 100, minSessionTimeout: 200, maxSessionTimeout: 60_000 };
  const apache = await apacheTarget(settings);
  let expected: Array<[string, unknown[]]>;
  try {
    expected = await converse(apache);
  } finally {
    await apache.close();
  }
  const zoostate = await zoostateTarget(settings);
  let actual: Array<[string, unknown[]]>;
  try {
    actual = await converse(zoostate);
  } finally {
    await zoostate.close();
  }
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.deepEqual(actual[i], expected[i], `step '${expected[i]![0]}'`);
});
