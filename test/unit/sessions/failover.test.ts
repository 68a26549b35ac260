/**
 * A client whose server dies moves to another within its session timeout and keeps its
 * session, ephemerals and watches (SetWatches catch-up, §9.6); REVALIDATE makes the new
 * server the session's owner at the leader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddWatchMode, CreateMode } from '../../../src/protocol/constants.js';
import type { ConnectionState, WatchEvent } from '../../../src/client/types.js';
import { connect, inOrder, retrying, serving, shutdown, until, waitFor } from './helpers.js';

for (const victim of ['follower', 'leader'] as const) {
  test(`a client whose server (${victim}) is killed reconnects elsewhere with its session, ephemerals and watches`, async () => {
    const { ensemble, clock } = await serving({}, victim === 'leader' ? 7 : 3);
    const leader = ensemble.leader()!;
    const home = victim === 'leader' ? leader : ensemble.servers.find((s) => s !== leader)!;
    const others = ensemble.servers.filter((s) => s !== home);
    const hosts = [home, ...others].map((s) => `inproc:${s.id}`).join(',');
    const { client, link } = await connect(ensemble, clock, { connectString: hosts, sessionTimeout: 8000, random: inOrder() });
    assert.equal(client.currentServer, `inproc:${home.id}`);
    const { client: other } = await connect(ensemble, clock, { connectString: others.map((s) => `inproc:${s.id}`).join(',') });
    const session = client.sessionId;
    await until(clock, client.create('/parent'));
    await until(clock, client.create('/watched', 'v0'));
    const eph = await until(clock, client.create('/eph', null, { mode: CreateMode.EPHEMERAL }));
    const events: WatchEvent[] = [];
    const watcher = (e: WatchEvent): void => {
      events.push(e);
    };
    await until(clock, client.getData('/watched', { watch: watcher }));
    await until(clock, client.exists('/new', { watch: watcher }));
    await until(clock, client.getChildren('/parent', { watch: watcher }));
    const recursive: WatchEvent[] = [];
    await until(clock, client.addWatch('/parent', AddWatchMode.PERSISTENT_RECURSIVE, (e) => recursive.push(e)));
    const states: ConnectionState[] = [];
    client.on('state', (s) => states.push(s));

    // Keep the client away while the ensemble changes without it, so that its watches
    // must catch up through SetWatches when it comes back.
    link.partition();
    const killed = home;
    killed.stop();
    // Changes made while the client is away (the ensemble may be electing).
    await retrying(clock, () => other.setData('/watched', 'v1'));
    await until(clock, other.create('/new'));
    await until(clock, other.create('/parent/child'));
    assert.equal(events.length, 0);
    link.heal();
    await waitFor(clock, () => states.includes('RECONNECTED'), 30_000, 'RECONNECTED');
    assert.deepEqual(states, ['SUSPENDED', 'RECONNECTED']);
    assert.equal(client.sessionId, session, 'same session');
    assert.notEqual(client.currentServer, `inproc:${killed.id}`);
    await waitFor(clock, () => events.length >= 3, 5000, 'catch-up events');
    assert.deepEqual(events.map((e) => `${e.type} ${e.path}`).sort(), ['NodeChildrenChanged /parent', 'NodeCreated /new', 'NodeDataChanged /watched']);
    assert.equal((await until(clock, client.exists(eph)))!.ephemeralOwner, session, 'the ephemeral survived');
    // Persistent watches are re-registered without catch-up; they fire for new changes.
    assert.equal(recursive.length, 0);
    await until(clock, other.create('/parent/child/deeper'));
    await waitFor(clock, () => recursive.length === 1, 5000, 'recursive event');
    assert.deepEqual(recursive.map((e) => `${e.type} ${e.path}`), ['NodeCreated /parent/child/deeper']);
    assert.equal(events.length, 3, 'each one-shot watch fired once');
    // The session's owner at the leader is the new server: writes work.
    await until(clock, client.setData('/watched', 'v2'));
    const newLeader = ensemble.leader()!;
    const tracked = ensemble.clientService(newLeader.id)!.sessions.leaderTracker!.get(session)!;
    assert.equal(tracked.owner, Number(client.currentServer!.split(':')[1]));
    await shutdown(clock, ensemble, [client, other]);
  });
}
