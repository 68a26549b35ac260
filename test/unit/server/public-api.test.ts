/**
 * The package's public surface: the client-port API is exported from the root, and
 * every subpath export of package.json points at a module the build emits (its source
 * exists) whose key names are there. The compiled package itself is checked by
 * `npm run build` (too slow for a unit test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as root from '../../../src/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface ExportEntry {
  types: string;
  import: string;
}

test('serveEnsemble, serveServer and ClientPort come from the package root and serve a client', async () => {
  assert.equal(typeof root.serveEnsemble, 'function');
  assert.equal(typeof root.serveServer, 'function');
  assert.equal(typeof root.ClientPort.listen, 'function');
  assert.equal(typeof root.serverInfoSource, 'function');
  const ensemble = await root.startEnsemble({ servers: 1 });
  const ports = await root.serveEnsemble(ensemble, { port: 0 });
  try {
    assert.ok(ports.ports[0] instanceof root.ClientPort);
    const client = root.createClient(ports.connectString, { sessionTimeout: 10_000 });
    await client.waitUntilConnected();
    assert.equal(await client.create('/api', 'x'), '/api');
    await client.close();
  } finally {
    await ports.close();
    await ensemble.close();
  }
});

test('package.json exports ./client and ./recipes next to the others, each built from a src index', async () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { exports: Record<string, ExportEntry | string> };
  for (const subpath of ['.', './client', './recipes', './protocol', './tree', './transport', './sim']) {
    const entry = pkg.exports[subpath];
    assert.ok(typeof entry === 'object', `${subpath} is exported`);
    const dir = subpath === '.' ? '' : `${subpath.slice(2)}/`;
    assert.equal(entry.import, `./dist/${dir}index.js`);
    assert.equal(entry.types, `./dist/${dir}index.d.ts`);
    assert.ok(existsSync(`${ROOT}src/${dir}index.ts`), `src/${dir}index.ts exists`);
  }
  const client = await import('../../../src/client/index.js');
  assert.equal(typeof client.createClient, 'function');
  assert.equal(typeof client.ZooKeeperClient, 'function');
  const recipes = await import('../../../src/recipes/index.js');
  assert.equal(typeof recipes.joinStatusBoard, 'function');
  assert.equal(recipes.joinStatusBoard, root.joinStatusBoard);
});
