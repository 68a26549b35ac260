/**
 * Four-letter words: each format against ZooKeeper 3.8.0's observed output (pure
 * functions over fixed snapshots), the whitelist and "not serving" rules, and the words
 * over a socket (raw text, no length prefix, then close).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ZK_NOT_SERVING,
  formatCons,
  formatConf,
  formatDump,
  formatMntr,
  formatSrvr,
  formatStat,
  formatWchc,
  formatWchp,
  formatWchs,
  hex64,
  isWhitelisted,
  javaDate,
  javaDouble,
  lastOpName,
  parseWhitelist,
  runFourLetterWord,
  zooKeeperVersion,
  type ConnectionSnapshot,
  type FourLetterWordContext,
  type MonitorSnapshot,
  type ServerStatsSnapshot,
} from '../../../src/server/four-letter-words.js';
import type { ClientPort } from '../../../src/server/client-port.js';
import { RawClient, fourLetterWord, openSession, scriptedPort } from './harness.js';

const VERSION = '3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC';

const FOLLOWER: ServerStatsSnapshot = {
  version: VERSION,
  readOnly: false,
  latency: { min: 1, avg: 31 / 5, max: 12 },
  packetsReceived: 10,
  packetsSent: 9,
  connections: 2,
  outstanding: 0,
  zxid: 0x100000002,
  mode: 'follower',
  nodeCount: 6,
};

const FOUR_LW_CONN: ConnectionSnapshot = { remoteAddress: '127.0.0.1', remotePort: 45632, interestOps: 0, queued: 0, received: 1, sent: 0 };
const CLIENT_CONN: ConnectionSnapshot = {
  remoteAddress: '127.0.0.1',
  remotePort: 45596,
  interestOps: 1,
  queued: 0,
  received: 5,
  sent: 5,
  session: {
    sessionId: 0x100003b19630000n,
    lastOp: 'EXIS',
    established: 1795323850614,
    timeout: 10000,
    lastCxid: 3,
    lastZxid: 0x100000002,
    lastResponseTime: 3873446,
    lastLatency: 4,
    minLatency: 0,
    avgLatency: 6,
    maxLatency: 12,
  },
};

describe('formats (as observed on ZooKeeper 3.8.0)', () => {
  test('srvr of a follower', () => {
    assert.equal(
      formatSrvr({ ...FOLLOWER, packetsReceived: 9, packetsSent: 8 }),
      `Zookeeper version: ${VERSION}\nLatency min/avg/max: 1/6.2/12\nReceived: 9\nSent: 8\nConnections: 2\nOutstanding: 0\nZxid: 0x100000002\nMode: follower\nNode count: 6\n`,
    );
  });

  test('srvr of a leader adds the proposal sizes; a read-only server says so', () => {
    const text = formatSrvr({ ...FOLLOWER, mode: 'leader', proposalSizes: { last: 87, min: 48, max: 87 } });
    assert.match(text, /Mode: leader\nNode count: 6\nProposal sizes last\/min\/max: 87\/48\/87\n$/);
    assert.match(formatSrvr({ ...FOLLOWER, mode: 'read-only', readOnly: true }), /^Zookeeper version: .*\nREAD-ONLY mode; serving only read-only clients\n/);
  });

  test('stat lists the clients briefly, then the srvr numbers', () => {
    assert.equal(
      formatStat(FOLLOWER, [FOUR_LW_CONN, CLIENT_CONN]),
      `Zookeeper version: ${VERSION}\nClients:\n /127.0.0.1:45632[0](queued=0,recved=1,sent=0)\n /127.0.0.1:45596[1](queued=0,recved=5,sent=5)\n\n` +
        'Latency min/avg/max: 1/6.2/12\nReceived: 10\nSent: 9\nConnections: 2\nOutstanding: 0\nZxid: 0x100000002\nMode: follower\nNode count: 6\n',
    );
  });

  test('cons gives the session fields of connections that have one', () => {
    assert.equal(
      formatCons([CLIENT_CONN, FOUR_LW_CONN]),
      ' /127.0.0.1:45596[1](queued=0,recved=5,sent=5,sid=0x100003b19630000,lop=EXIS,est=1795323850614,to=10000,lcxid=0x3,lzxid=0x100000002,lresp=3873446,llat=4,minlat=0,avglat=6,maxlat=12)\n' +
        ' /127.0.0.1:45632[0](queued=0,recved=1,sent=0)\n\n',
    );
  });

  test('wchs, wchc, wchp', () => {
    assert.equal(formatWchs({ watchers: 1, paths: 2, total: 2 }), '1 connections watching 2 paths\nTotal watches:2\n');
    const listing = {
      byConnection: [{ sessionId: 0x100003b19630000n, paths: ['/a', '/nope'] }],
      byPath: [
        { path: '/a', sessionIds: [0x100003b19630000n] },
        { path: '/nope', sessionIds: [0x100003b19630000n] },
      ],
    };
    assert.equal(formatWchc(listing), '0x100003b19630000\n\t/a\n\t/nope\n\n');
    assert.equal(formatWchp(listing), '/a\n\t0x100003b19630000\n/nope\n\t0x100003b19630000\n\n');
    assert.equal(formatWchc({ byConnection: [], byPath: [] }), '\n');
  });

  test('dump: a learner lists global sessions, a leader its expiry buckets', () => {
    const at = Date.UTC(2026, 10, 22, 5, 4, 27);
    const connections = {
      buckets: [
        {
          expiresAt: at,
          connections: [
            { remoteAddress: '127.0.0.1', remotePort: 45710, sessionId: 0n },
            { remoteAddress: '127.0.0.1', remotePort: 45596, sessionId: 0x100003b19630000n },
          ],
        },
      ],
    };
    const ephemerals = [{ sessionId: 0x100003b19630000n, paths: ['/a'] }];
    assert.equal(
      formatDump({ sessions: { kind: 'learner', sessions: [{ sessionId: 0x100003b19630000n, timeout: 10000 }] }, ephemerals, connections }),
      'SessionTracker dump:\nGlobal Sessions(1):\n0x100003b19630000\t10000ms\nephemeral nodes dump:\nSessions with Ephemerals (1):\n0x100003b19630000:\n\t/a\n' +
        'Connections dump:\nConnections Sets (1)/(2):\n2 expire at Sun Nov 22 05:04:27 UTC 2026:\n\tip: /127.0.0.1:45710 sessionId: 0x0\n\tip: /127.0.0.1:45596 sessionId: 0x100003b19630000\n',
    );
    const leader = formatDump({
      sessions: { kind: 'leader', buckets: [{ expiresAt: Date.UTC(2026, 10, 22, 5, 4, 21), sessions: [0x100003b19630000n] }] },
      ephemerals,
      connections: { buckets: [] },
    });
    assert.match(leader, /^SessionTracker dump:\nSession Sets \(1\)\/\(1\):\n1 expire at Sun Nov 22 05:04:21 UTC 2026:\n\t0x100003b19630000\nephemeral nodes dump:\n/);
  });

  test('conf of a quorum member ends with the membership, without a final newline', () => {
    const text = formatConf({
      clientPort: 46829,
      dataDir: '/d/version-2',
      dataDirSize: 67109477,
      dataLogDir: '/d/version-2',
      dataLogSize: 67109477,
      tickTime: 2000,
      maxClientCnxns: 0,
      minSessionTimeout: 4000,
      maxSessionTimeout: 60000,
      serverId: 1,
      quorum: {
        initLimit: 50,
        syncLimit: 20,
        electionPort: 40913,
        quorumPort: 37619,
        peerType: 0,
        membership: ['server.1=127.0.0.1:37619:40913:participant', 'server.2=127.0.0.1:35067:43497:participant'],
        version: '0',
      },
    });
    assert.equal(
      text,
      'clientPort=46829\nsecureClientPort=-1\ndataDir=/d/version-2\ndataDirSize=67109477\ndataLogDir=/d/version-2\ndataLogSize=67109477\ntickTime=2000\n' +
        'maxClientCnxns=0\nminSessionTimeout=4000\nmaxSessionTimeout=60000\nclientPortListenBacklog=-1\nserverId=1\ninitLimit=50\nsyncLimit=20\n' +
        'electionAlg=3\nelectionPort=40913\nquorumPort=37619\npeerType=0\nmembership: \nserver.1=127.0.0.1:37619:40913:participant\n' +
        'server.2=127.0.0.1:35067:43497:participant\nversion=0',
    );
  });

  test('mntr: one zk_ line per key, starting with version, state and peer state; leader keys on the leader', () => {
    const m: MonitorSnapshot = {
      stats: FOLLOWER,
      peerState: 'following - broadcast',
      ephemeralsCount: 1,
      globalSessions: 1,
      localSessions: 0,
      watchCount: 3,
      approximateDataSize: 185,
      uptimeMs: 418,
      quorumSize: 3,
      authFailed: 0,
      lastClientResponseSize: 16,
      minClientResponseSize: 16,
      maxClientResponseSize: 106,
      bytesReceived: 241,
      responseBytes: 233,
      connectionRequests: 1,
      connectionsRejected: 0,
      unsuccessfulHandshakes: 0,
      throttledOps: 0,
      largeRequestsRejected: 0,
    };
    const lines = formatMntr(m).split('\n');
    assert.deepEqual(lines.slice(0, 3), [`zk_version\t${VERSION}`, 'zk_server_state\tfollower', 'zk_peer_state\tfollowing - broadcast']);
    const map = new Map(lines.filter(Boolean).map((l) => l.split('\t') as [string, string]));
    assert.equal(map.get('zk_avg_latency'), '6.2');
    assert.equal(map.get('zk_znode_count'), '6');
    assert.equal(map.get('zk_watch_count'), '3');
    assert.equal(map.get('zk_learners'), undefined);
    const leader = formatMntr({
      ...m,
      stats: { ...FOLLOWER, mode: 'leader' },
      leader: { learners: 2, syncedFollowers: 2, syncedNonVotingFollowers: 0, syncedObservers: 0, pendingSyncs: 0, leaderUptimeMs: 412, proposalSizes: { last: 87, min: 48, max: 87 }, proposalCount: 2 },
    });
    assert.match(leader, /\nzk_learners\t2\n/);
    assert.match(leader, /\nzk_synced_followers\t2\n/);
    assert.match(leader, /\nzk_max_proposal_size\t87\n/);
  });

  test('helpers: Java-style doubles, dates, hex, versions and last-op names', () => {
    assert.equal(javaDouble(0), '0.0');
    assert.equal(javaDouble(6.2), '6.2');
    assert.equal(javaDouble(8 / 3), '2.6667');
    assert.equal(javaDate(Date.UTC(2026, 10, 22, 5, 4, 21)), 'Sun Nov 22 05:04:21 UTC 2026');
    assert.equal(hex64(-1), 'ffffffffffffffff');
    assert.equal(hex64(0x8000000000000001n), '8000000000000001');
    assert.equal(zooKeeperVersion('1.2.3', Date.UTC(2025, 0, 2, 3, 4)), '3.8.0-zoostate-1.2.3, built on 2025-01-02 03:04 UTC');
    assert.match(zooKeeperVersion('1.2.3', 0), /^\d+\.\d+\.\d+-/);
    assert.equal(lastOpName(4), 'GETD');
    assert.equal(lastOpName(15), 'CREA');
    assert.equal(lastOpName(104), 'GETACN');
    assert.equal(lastOpName(999), 'NA');
  });
});

describe('whitelist and serving rules', () => {
  const context = (serving: boolean): FourLetterWordContext & { resets: string[] } => {
    const resets: string[] = [];
    return {
      resets,
      serving: () => serving,
      readOnly: () => false,
      stats: () => FOLLOWER,
      connections: () => [],
      watchSummary: () => ({ watchers: 0, paths: 0, total: 0 }),
      watchListing: () => ({ byConnection: [], byPath: [] }),
      dump: () => ({ sessions: { kind: 'learner', sessions: [] }, ephemerals: [], connections: { buckets: [] } }),
      conf: () => ({ clientPort: 1, dataDir: '', dataDirSize: 0, dataLogDir: '', dataLogSize: 0, tickTime: 1, maxClientCnxns: 0, minSessionTimeout: 2, maxSessionTimeout: 3, serverId: 1 }),
      environment: () => [['zookeeper.version', VERSION]],
      monitor: () => {
        throw new Error('not needed');
      },
      dirs: () => ({ dataDirSize: 10, logDirSize: 20 }),
      resetServerStats: () => resets.push('server'),
      resetConnectionStats: () => resets.push('connections'),
      traceMask: 306n,
    };
  };

  test('parseWhitelist: * or a list of known words', () => {
    assert.equal(parseWhitelist(undefined), '*');
    assert.equal(parseWhitelist(' * '), '*');
    assert.deepEqual(parseWhitelist('srvr, ruok,bogus'), ['srvr', 'ruok']);
    assert.ok(isWhitelisted('mntr', '*'));
    assert.ok(!isWhitelisted('mntr', ['srvr']));
  });

  test('a known word outside the whitelist answers with ZooKeeper sentence', () => {
    assert.equal(runFourLetterWord('stat', context(true), ['srvr']), 'stat is not executed because it is not in the whitelist.\n');
    assert.match(runFourLetterWord('srvr', context(true), ['srvr']), /^Zookeeper version:/);
  });

  test('not serving: ruok, isro, envi, gtmk still answer; the rest say so', () => {
    const ctx = context(false);
    assert.equal(runFourLetterWord('ruok', ctx, '*'), 'imok');
    assert.equal(runFourLetterWord('isro', ctx, '*'), 'null');
    assert.match(runFourLetterWord('envi', ctx, '*'), /^Environment:\nzookeeper.version=/);
    assert.equal(runFourLetterWord('gtmk', ctx, '*'), '306');
    for (const word of ['srvr', 'stat', 'cons', 'mntr', 'conf', 'wchs', 'wchc', 'wchp', 'dump', 'crst', 'srst', 'dirs']) {
      assert.equal(runFourLetterWord(word, ctx, '*'), ZK_NOT_SERVING, word);
    }
    assert.deepEqual(ctx.resets, []);
  });

  test('serving: isro rw, crst/srst reset, dirs, stmk sets the trace mask', () => {
    const ctx = context(true);
    assert.equal(runFourLetterWord('isro', ctx, '*'), 'rw');
    assert.equal(runFourLetterWord('crst', ctx, '*'), 'Connection stats reset.\n');
    assert.equal(runFourLetterWord('srst', ctx, '*'), 'Server stats reset.\n');
    assert.deepEqual(ctx.resets, ['connections', 'server']);
    assert.equal(runFourLetterWord('dirs', ctx, '*'), 'datadir_size: 10\nlogdir_size: 20\n');
    const mask = Buffer.alloc(8);
    mask.writeBigInt64BE(0x1234n);
    assert.equal(runFourLetterWord('stmk', ctx, '*', mask), String(0x1234));
    assert.equal(runFourLetterWord('gtmk', ctx, '*'), String(0x1234));
  });
});

describe('over a socket', () => {
  const ports: ClientPort[] = [];
  afterEach(async () => {
    for (const p of ports.splice(0)) await p.close();
  });

  test('ruok answers imok raw (no length prefix) and closes; srvr and stat count this connection', async () => {
    const s = await scriptedPort({ info: { mode: () => 'leader', nodeCount: () => 4, lastZxid: () => 0x200000007 } });
    ports.push(s.port);
    assert.equal(await fourLetterWord(s.address, 'ruok'), 'imok');
    const client = await openSession(s.address);
    const srvr = await fourLetterWord(s.address, 'srvr');
    assert.match(srvr, /^Zookeeper version: 3\.8\.0-zoostate-\S+, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC\n/);
    assert.match(srvr, /\nConnections: 2\n/);
    assert.match(srvr, /\nZxid: 0x200000007\nMode: leader\nNode count: 4\n/);
    const stat = await fourLetterWord(s.address, 'stat');
    assert.match(stat, /\nClients:\n( \/127\.0\.0\.1:\d+\[[01]\]\(queued=0,recved=\d+,sent=\d+\)\n){2}\n/);
    const cons = await fourLetterWord(s.address, 'cons');
    assert.match(cons, /sid=0x100000000000001,lop=SESS|sid=0x100000000000001,lop=NA/);
    client.destroy();
  });

  test('the whitelist applies on the port; not serving is reported', async () => {
    const s = await scriptedPort({ fourLetterWords: ['ruok', 'srvr'] });
    ports.push(s.port);
    assert.equal(await fourLetterWord(s.address, 'mntr'), 'mntr is not executed because it is not in the whitelist.\n');
    s.serving.set(false);
    assert.equal(await fourLetterWord(s.address, 'srvr'), ZK_NOT_SERVING);
    assert.equal(await fourLetterWord(s.address, 'ruok'), 'imok');
  });

  test('stmk reads its 8-byte argument; the telnet close sequence just closes', async () => {
    const s = await scriptedPort();
    ports.push(s.port);
    const arg = Buffer.alloc(8);
    arg.writeBigInt64BE(42n);
    assert.equal(await fourLetterWord(s.address, Buffer.concat([Buffer.from('stmk'), arg])), '42');
    assert.equal(await fourLetterWord(s.address, 'gtmk'), '42');
    assert.equal(await fourLetterWord(s.address, Buffer.from('fff4fffd', 'hex')), '');
  });

  test('a word split across TCP chunks is still recognised', async () => {
    const s = await scriptedPort();
    ports.push(s.port);
    const client = new RawClient(s.address, true);
    await client.connected();
    client.write('ru');
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.write('ok');
    await client.waitClosed();
    assert.equal(client.text(), 'imok');
  });
});
