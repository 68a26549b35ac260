"""pytest plugin: run kazoo's own test suite against servers started by someone else.

kazoo's harness (kazoo.testing.harness.get_global_cluster) launches its own Java
ensemble. This plugin replaces that function with a cluster object whose servers are
already running (started by test/compat/kazoo/run.ts) and whose stop/run calls go
back to that runner over a small HTTP API on loopback. Nothing in Debian's kazoo
package is edited; load with `PYTHONPATH=<this dir> python3 -m pytest -p zoostate_kazoo`.

Environment:
  ZOOSTATE_KAZOO_SERVERS   comma-separated host:port of every server, in order
  ZOOSTATE_KAZOO_CONTROL   http://127.0.0.1:<port> of the runner's control API
  ZOOSTATE_KAZOO_REPORT    file to append one JSON line per test phase to
  ZOOSTATE_KAZOO_TIMEOUT   seconds one test may take (setup + call + teardown)
  ZOOSTATE_KAZOO_WATCH_STDIN  "1": exit when stdin closes (the runner died)
"""
import json
import os
import signal
import threading
import urllib.request

import pytest

import kazoo.testing.harness as harness

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError('%s is not set (run through test/compat/kazoo/run.ts)' % name)
    return value


def _control(method, path):
    """Call the runner's control API; returns the decoded JSON reply."""
    url = _env('ZOOSTATE_KAZOO_CONTROL') + path
    request = urllib.request.Request(url, method=method, data=b'' if method == 'POST' else None)
    with _OPENER.open(request, timeout=180) as response:
        return json.loads(response.read().decode('utf-8'))


class ExternalServer(object):
    """One server, with the parts of kazoo.testing.common.ManagedZooKeeper the tests use."""

    def __init__(self, index, address):
        self.index = index
        self.host, port = address.rsplit(':', 1)
        self.client_port = int(port)

    @property
    def address(self):
        return '%s:%s' % (self.host, self.client_port)

    @property
    def running(self):
        return _control('GET', '/status')['running'][self.index]

    def run(self):
        """Start the server again (same data) and return once it serves."""
        _control('POST', '/start/%d' % self.index)

    def stop(self):
        """Stop the server, keeping its data; returns once it is down."""
        _control('POST', '/stop/%d' % self.index)

    def reset(self):
        raise NotImplementedError('wiping a server is not supported by external targets')

    def destroy(self):
        pass  # the runner owns the servers' lifecycle


class ExternalCluster(object):
    """Replaces kazoo.testing.common.ZookeeperCluster."""

    def __init__(self, addresses):
        self._servers = [ExternalServer(i, a) for i, a in enumerate(addresses)]

    def __getitem__(self, k):
        return self._servers[k]

    def __iter__(self):
        return iter(self._servers)

    def __len__(self):
        return len(self._servers)

    def start(self):
        _control('POST', '/start-all')

    def stop(self):
        _control('POST', '/stop-all')

    def terminate(self):
        pass

    def reset(self):
        raise NotImplementedError('wiping the cluster is not supported by external targets')


_CLUSTER = None


def get_external_cluster():
    global _CLUSTER
    if _CLUSTER is None:
        _CLUSTER = ExternalCluster(_env('ZOOSTATE_KAZOO_SERVERS').split(','))
    return _CLUSTER


# The harness looks the function up in its module on every use, so this is enough.
harness.get_global_cluster = get_external_cluster


def _watch_stdin(fd):
    """Kill this process group when the runner's pipe on our stdin closes."""
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
    os.killpg(os.getpgrp(), signal.SIGKILL)


class KazooTestTimeout(Exception):
    """A test ran longer than ZOOSTATE_KAZOO_TIMEOUT."""


# Started on import: pytest's capturing points fd 0 at /dev/null later, so keep a copy.
if os.environ.get('ZOOSTATE_KAZOO_WATCH_STDIN') == '1':
    threading.Thread(target=_watch_stdin, args=(os.dup(0),), name='zoostate-stdin-watch', daemon=True).start()


def pytest_configure(config):
    get_external_cluster()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    timeout = float(os.environ.get('ZOOSTATE_KAZOO_TIMEOUT', '0') or 0)
    if timeout <= 0:
        yield
        return

    def expired(signum, frame):
        raise KazooTestTimeout('%s took longer than %s s' % (item.nodeid, timeout))

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pytest_runtest_logreport(report):
    path = os.environ.get('ZOOSTATE_KAZOO_REPORT')
    if not path:
        return
    message = ''
    if report.failed:
        message = str(report.longrepr)[-4000:]
    elif report.skipped and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2])
    line = {
        'nodeid': report.nodeid,
        'when': report.when,
        'outcome': report.outcome,
        'duration': round(report.duration, 3),
        'message': message,
    }
    with open(path, 'a', encoding='utf-8') as out:
        out.write(json.dumps(line) + '\n')
