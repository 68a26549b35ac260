import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, BadArgumentsError } from '../../../src/protocol/errors.js';
import {
  ancestorsOf,
  baseName,
  depthOf,
  isUnder,
  isValidPath,
  joinPath,
  parentOf,
  validatePath,
} from '../../../src/tree/path.js';

function reason(path: string, isSequential = false): string {
  try {
    validatePath(path, isSequential);
  } catch (error) {
    assert.ok(error instanceof BadArgumentsError);
    assert.equal(error.code, ErrorCode.BadArguments);
    assert.equal(error.path, path);
    return error.message;
  }
  return 'valid';
}

describe('validatePath', () => {
  it('accepts ordinary paths', () => {
    for (const path of ['/', '/a', '/a/b', '/zookeeper/quota', '/a b/c-d_e.f', '/.a', '/a.', '/...', '/a/..b', '/é/日本']) {
      assert.equal(reason(path), 'valid', path);
    }
  });

  it('rejects empty, relative and trailing-slash paths with ZooKeeper messages', () => {
    assert.equal(reason(''), 'Path length must be > 0');
    assert.equal(reason('a'), 'Path must start with / character');
    assert.equal(reason('a/b'), 'Path must start with / character');
    assert.equal(reason('/a/'), 'Path must not end with / character');
    assert.equal(reason('//'), 'Path must not end with / character');
  });

  it('rejects empty node names', () => {
    assert.equal(reason('/a//b'), 'Invalid path string "/a//b" caused by empty node name specified @3');
    assert.equal(reason('//a'), 'Invalid path string "//a" caused by empty node name specified @1');
  });

  it('rejects . and .. segments but not names containing dots', () => {
    assert.equal(reason('/.'), 'Invalid path string "/." caused by relative paths not allowed @1');
    assert.equal(reason('/..'), 'Invalid path string "/.." caused by relative paths not allowed @2');
    assert.equal(reason('/a/./b'), 'Invalid path string "/a/./b" caused by relative paths not allowed @3');
    assert.equal(reason('/a/../b'), 'Invalid path string "/a/../b" caused by relative paths not allowed @4');
    assert.equal(reason('/a/.'), 'Invalid path string "/a/." caused by relative paths not allowed @3');
    assert.equal(reason('/a/..'), 'Invalid path string "/a/.." caused by relative paths not allowed @4');
    for (const ok of ['/a.b', '/.x', '/x.', '/..x', '/x..', '/...', '/a/...']) assert.equal(reason(ok), 'valid', ok);
  });

  it('rejects NUL', () => {
    assert.equal(reason('/a\u0000b'), 'Invalid path string "/a\u0000b" caused by null character not allowed @2');
  });

  it('rejects every code unit of the invalid ranges and accepts their neighbours', () => {
    const ranges: Array<[number, number]> = [
      [0x0001, 0x001f],
      [0x007f, 0x009f],
      [0xd800, 0xf8ff],
      [0xfff0, 0xffff],
    ];
    for (const [lo, hi] of ranges) {
      for (let c = lo; c <= hi; c++) {
        const path = `/a${String.fromCharCode(c)}`;
        assert.equal(reason(path), `Invalid path string "${path}" caused by invalid character @2`, c.toString(16));
      }
    }
    for (const c of [0x0020, 0x007e, 0x00a0, 0xd7ff, 0xf900, 0xffef]) {
      assert.equal(isValidPath(`/a${String.fromCharCode(c)}`), true, c.toString(16));
    }
    // A surrogate pair (emoji) is two code units in the rejected range, as in Java.
    assert.equal(isValidPath('/😀'), false);
  });

  it('sequential form validates path + "1", allowing a trailing slash', () => {
    assert.equal(reason('/a/', true), 'valid');
    assert.equal(reason('/', true), 'valid');
    assert.equal(reason('/a/lock-', true), 'valid');
    assert.equal(reason('/a//', true), 'Invalid path string "/a//1" caused by empty node name specified @3');
    assert.equal(reason('/a/.', true), 'valid'); // "/a/.1" is a normal name
    assert.equal(reason('', true), 'Path must start with / character');
  });
});

describe('path helpers', () => {
  it('parentOf', () => {
    assert.equal(parentOf('/a'), '/');
    assert.equal(parentOf('/a/b'), '/a');
    assert.equal(parentOf('/a/b/c'), '/a/b');
    assert.equal(parentOf('/'), '/');
  });

  it('baseName and joinPath', () => {
    assert.equal(baseName('/a/b'), 'b');
    assert.equal(baseName('/a'), 'a');
    assert.equal(baseName('/'), '');
    assert.equal(joinPath('/', 'a'), '/a');
    assert.equal(joinPath('/a', 'b'), '/a/b');
  });

  it('depthOf', () => {
    assert.equal(depthOf('/'), 0);
    assert.equal(depthOf('/a'), 1);
    assert.equal(depthOf('/a/b/c'), 3);
  });

  it('ancestorsOf walks nearest first up to the root', () => {
    assert.deepEqual([...ancestorsOf('/a/b/c')], ['/a/b', '/a', '/']);
    assert.deepEqual([...ancestorsOf('/a')], ['/']);
    assert.deepEqual([...ancestorsOf('/')], []);
  });

  it('isUnder respects segment boundaries', () => {
    assert.equal(isUnder('/a/b', '/a'), true);
    assert.equal(isUnder('/a', '/a'), true);
    assert.equal(isUnder('/ab', '/a'), false);
    assert.equal(isUnder('/a', '/'), true);
    assert.equal(isUnder('/', '/'), true);
    assert.equal(isUnder('/a', '/a/b'), false);
  });
});
