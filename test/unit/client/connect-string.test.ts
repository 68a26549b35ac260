import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectString, formatHost } from '../../../src/client/connect-string.js';
import { HostProvider, shuffle } from '../../../src/client/host-provider.js';
import { pathProblem, prependChroot, stripChroot, validatePath, parentOf, selfAndAncestors } from '../../../src/client/paths.js';
import { BadArgumentsError } from '../../../src/protocol/errors.js';
import { seededRandom } from '../../../src/runtime/random.js';

test('parses hosts, default port, IPv6 and chroot', () => {
  assert.deepEqual(parseConnectString('127.0.0.1:2181,127.0.0.1:2182/app'), {
    hosts: [
      { host: '127.0.0.1', port: 2181 },
      { host: '127.0.0.1', port: 2182 },
    ],
    chroot: '/app',
  });
  assert.deepEqual(parseConnectString('zk1, zk2:3000 ,[::1]:2183,[fe80::1]'), {
    hosts: [
      { host: 'zk1', port: 2181 },
      { host: 'zk2', port: 3000 },
      { host: '::1', port: 2183 },
      { host: 'fe80::1', port: 2181 },
    ],
    chroot: undefined,
  });
  assert.equal(parseConnectString('h:1/').chroot, undefined, 'a chroot of / is none');
  assert.equal(parseConnectString('h:1/a/b').chroot, '/a/b');
  assert.equal(formatHost({ host: '::1', port: 5 }), '[::1]:5');
  assert.equal(formatHost({ host: 'h', port: 5 }), 'h:5');
});

test('rejects bad connect strings with BadArguments', () => {
  for (const bad of ['', ',', 'h:x', 'h:70000', ':1', '[::1', 'h:1/a/', 'h:1/a//b', 'h:1/./a']) {
    assert.throws(() => parseConnectString(bad), BadArgumentsError, bad);
  }
});

test('host provider shuffles deterministically and keeps every host', () => {
  const hosts = [1, 2, 3, 4, 5].map((port) => ({ host: 'h', port }));
  const a = new HostProvider(hosts, seededRandom(7)).order.map((h) => h.port);
  const b = new HostProvider(hosts, seededRandom(7)).order.map((h) => h.port);
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort(), [1, 2, 3, 4, 5]);
  const orders = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => new HostProvider(hosts, seededRandom(seed)).order.map((h) => h.port).join()));
  assert.ok(orders.size > 1, 'different seeds give different orders');
  assert.deepEqual(shuffle([], seededRandom(1)), []);
});

test('host provider signals a full cycle like StaticHostProvider', () => {
  const hosts = [1, 2, 3].map((port) => ({ host: 'h', port }));
  const provider = new HostProvider(hosts, seededRandom(1));
  const order = provider.order.map((h) => h.port);
  const take = () => {
    const n = provider.next();
    return [n.address.port, n.cycled] as const;
  };
  // First cycle: no back-off; back at the first host: back off.
  assert.deepEqual([take(), take(), take(), take()], [
    [order[0], false],
    [order[1], false],
    [order[2], false],
    [order[0], true],
  ]);
  provider.onConnected(); // connected to order[0]
  assert.deepEqual([take(), take(), take()], [
    [order[1], false],
    [order[2], false],
    [order[0], true],
  ]);
  const single = new HostProvider([{ host: 'h', port: 1 }], seededRandom(1));
  assert.equal(single.next().cycled, false);
  assert.equal(single.next().cycled, true);
});

test('path validation follows the Java client', () => {
  for (const ok of ['/', '/a', '/a/b', '/a.b', '/..a', '/a/...', '/zookeeper', '/ünï']) assert.equal(pathProblem(ok), undefined, ok);
  for (const bad of ['', 'a', '/a/', '//a', '/a//b', '/.', '/a/..', '/a/./b', '/a\u0000', '/a\u0001', '/\u007f', '/\ud800', '/\ufff5']) {
    assert.notEqual(pathProblem(bad), undefined, JSON.stringify(bad));
  }
  assert.equal(pathProblem('/queue/', true), undefined, 'a sequential create may end with /');
  assert.notEqual(pathProblem('/queue/'), undefined);
  assert.throws(
    () => validatePath('nope'),
    (e: unknown) => e instanceof BadArgumentsError && e.code === -8 && e.path === 'nope',
  );
});

test('chroot is prepended and stripped on segment boundaries', () => {
  assert.equal(prependChroot('/app', '/'), '/app');
  assert.equal(prependChroot('/app', '/x/y'), '/app/x/y');
  assert.equal(prependChroot(undefined, '/x'), '/x');
  assert.equal(stripChroot('/app', '/app'), '/');
  assert.equal(stripChroot('/app', '/app/x'), '/x');
  assert.equal(stripChroot('/app', '/apple'), '/apple', 'not inside the chroot');
  assert.equal(stripChroot(undefined, '/x'), '/x');
  assert.equal(parentOf('/a/b'), '/a');
  assert.equal(parentOf('/a'), '/');
  assert.deepEqual([...selfAndAncestors('/a/b')], ['/a/b', '/a', '/']);
  assert.deepEqual([...selfAndAncestors('/')], ['/']);
});
