/**
 * Client-protocol codec throughput: encode and decode rates of the frames on the hot
 * path (create and setData requests with 100-byte data, a getData reply, a watch
 * notification) and frame splitting of a 64 MB stream of small frames. Each rate is
 * also given as a ratio against a plain `Buffer.copy` of the same bytes in the same run.
 *
 * Run: node --expose-gc --import tsx bench/codec/index.ts [--quick] [--json]
 */
import { performance } from 'node:perf_hooks';
import { quick, report } from '../report.js';
import type { Metric } from '../report.js';
import {
  FrameDecoder,
  JuteReader,
  decodeRequest,
  decodeResponse,
  encodeNotification,
  encodeReply,
  encodeRequest,
  readReplyHeader,
  readWatcherEvent,
} from '../../src/protocol/codec.js';
import type { ClientRequest, Stat } from '../../src/protocol/records.js';

const MEASURE_MS = quick ? 60 : 400;
let sink = 0;

/** Operations per second of `fn`, timed in growing batches until MEASURE_MS elapsed (after a warm-up). */
function rate(fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn();
  let batch = 1000;
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MEASURE_MS) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    elapsed = performance.now() - start;
    if (elapsed < MEASURE_MS / 10) batch *= 2;
  }
  return (ops * 1000) / elapsed;
}

/** Copies of `bytes` per second with Buffer.copy into a preallocated target: the baseline. */
function copyRate(bytes: Uint8Array): number {
  const src = Buffer.from(bytes);
  const dst = Buffer.allocUnsafe(src.length);
  return rate(() => {
    sink += src.copy(dst);
  });
}

const DATA = new Uint8Array(100).fill(0x61);
const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const STAT: Stat = {
  czxid: 0x100000123,
  mzxid: 0x100000456,
  ctime: 1_700_000_000_000,
  mtime: 1_700_000_000_500,
  version: 3,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 100,
  numChildren: 0,
  pzxid: 0x100000123,
};

const metrics: Metric[] = [];

function bench(name: string, frame: Uint8Array, encode: () => Uint8Array, decode: (payload: Uint8Array) => void): void {
  const payload = frame.subarray(4);
  const copy = copyRate(frame);
  const enc = rate(() => {
    sink += encode().length;
  });
  const dec = rate(() => decode(payload));
  const mb = frame.length / 1e6;
  metrics.push(
    { metric: `${name}.encode_ops_per_s`, value: Math.round(enc), unit: 'ops/s', note: `${frame.length}-byte frame` },
    { metric: `${name}.encode_mb_per_s`, value: enc * mb, unit: 'MB/s' },
    { metric: `${name}.encode_vs_copy`, value: enc / copy, unit: 'ratio', note: `Buffer.copy ${Math.round(copy).toLocaleString('en-US')} ops/s` },
    { metric: `${name}.decode_ops_per_s`, value: Math.round(dec), unit: 'ops/s' },
    { metric: `${name}.decode_mb_per_s`, value: dec * mb, unit: 'MB/s' },
    { metric: `${name}.decode_vs_copy`, value: dec / copy, unit: 'ratio' },
  );
}

let xid = 0;
const createReq: ClientRequest = { type: 1, path: '/bench/node-0000000123', data: DATA, acl: OPEN_ACL, flags: 0 };
bench(
  'create_request',
  encodeRequest(1, createReq),
  () => encodeRequest(++xid, createReq),
  (p) => {
    sink += decodeRequest(p).header.xid;
  },
);

const getDataReply = { data: DATA, stat: STAT };
const getDataHeader = { xid: 7, zxid: 0x100000789, err: 0 };
bench(
  'getdata_reply',
  encodeReply(getDataHeader, 4, getDataReply),
  () => encodeReply(getDataHeader, 4, getDataReply),
  (p) => {
    const r = new JuteReader(p);
    sink += readReplyHeader(r).xid;
    sink += decodeResponse(4, r).stat.version;
  },
);

const setDataReq: ClientRequest = { type: 5, path: '/bench/node-0000000123', data: DATA, version: -1 };
bench(
  'setdata_request',
  encodeRequest(1, setDataReq),
  () => encodeRequest(++xid, setDataReq),
  (p) => {
    sink += decodeRequest(p).header.xid;
  },
);

const event = { type: 3, state: 3, path: '/bench/node-0000000123' };
bench(
  'notification',
  encodeNotification(event),
  () => encodeNotification(event),
  (p) => {
    const r = new JuteReader(p);
    sink += readReplyHeader(r).xid;
    sink += readWatcherEvent(r).type;
  },
);

// Frame splitting: a stream of small frames cut into 64 KiB chunks, as a socket delivers it.
{
  const total = quick ? 8 << 20 : 64 << 20;
  const one = encodeRequest(1, createReq);
  const count = Math.floor(total / one.length);
  const stream = Buffer.allocUnsafe(count * one.length);
  for (let i = 0; i < count; i++) stream.set(one, i * one.length);
  const CHUNK = 64 * 1024;
  const chunks: Uint8Array[] = [];
  for (let pos = 0; pos < stream.length; pos += CHUNK) chunks.push(stream.subarray(pos, pos + CHUNK));

  const split = (): number => {
    const decoder = new FrameDecoder();
    let frames = 0;
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames++;
    }
    return frames;
  };
  const copyAll = (): number => {
    const dst = Buffer.allocUnsafe(CHUNK);
    let n = 0;
    for (const chunk of chunks) n += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).copy(dst);
    return n;
  };
  const time = (fn: () => number, rounds: number): number => {
    fn();
    const start = performance.now();
    for (let i = 0; i < rounds; i++) sink += fn();
    return (performance.now() - start) / 1000 / rounds;
  };
  const rounds = quick ? 2 : 5;
  const splitS = time(split, rounds);
  const copyS = time(copyAll, rounds);
  if (split() !== count) throw new Error('frame splitting lost frames');
  metrics.push(
    { metric: 'frame_split.mb_per_s', value: stream.length / 1e6 / splitS, unit: 'MB/s', note: `${(stream.length / 1e6).toFixed(0)} MB in ${CHUNK >> 10} KiB chunks` },
    { metric: 'frame_split.frames_per_s', value: Math.round(count / splitS), unit: 'frames/s', note: `${one.length}-byte frames` },
    { metric: 'frame_split.vs_copy', value: copyS / splitS, unit: 'ratio', note: `Buffer.copy ${(stream.length / 1e6 / copyS).toFixed(0)} MB/s` },
  );
}

report('codec', metrics);
if (sink === 0.5) console.log(sink); // keep results observable
