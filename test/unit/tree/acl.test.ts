import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Perms } from '../../../src/protocol/constants.js';
import { AuthFailedError, ErrorCode, InvalidACLError } from '../../../src/protocol/errors.js';
import type { ACL, Id } from '../../../src/protocol/records.js';
import {
  ANYONE_ID,
  CREATOR_ALL_ACL,
  OPEN_ACL_UNSAFE,
  READ_ACL_UNSAFE,
  authenticate,
  checkACL,
  digestId,
  fixupACL,
  ipIdOf,
  ipMatches,
  isValidDigestId,
  isValidIpId,
  maskDigestIds,
} from '../../../src/tree/acl.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });

describe('well-known ACLs', () => {
  it('match ZooDefs.Ids', () => {
    assert.deepEqual(ANYONE_ID, { scheme: 'world', id: 'anyone' });
    assert.deepEqual(OPEN_ACL_UNSAFE, [acl(31, 'world', 'anyone')]);
    assert.deepEqual(CREATOR_ALL_ACL, [acl(31, 'auth', '')]);
    assert.deepEqual(READ_ACL_UNSAFE, [acl(1, 'world', 'anyone')]);
  });
});

describe('digestId', () => {
  it('reproduces ZooKeeper documented and test vectors', () => {
    assert.equal(digestId('super:test'), 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    // AuthTest.testSuperDigest / ZooKeeperTest.
    assert.equal(digestId('super:zookeeper'), 'super:yyuhPKumRtNj4r8GnSbbwuq1vhE=');
    assert.equal(digestId('super:foo'), 'super:t6lQTvqID/Gl5Or0n4FYE6kKP8w=');
    assert.equal(digestId('super:bar'), 'super:hTdNN4QH4isoRvCrQ1Jf7REREQ4=');
    assert.equal(digestId('user:test'), 'user:tl+z3z0vO6PfPfEENfLF96E6pM0=');
  });

  it('hashes the whole text and keeps the part before the first colon (vectors from openssl)', () => {
    assert.equal(digestId('user:password'), 'user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=');
    assert.equal(digestId('a:b:c'), 'a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0=');
    assert.equal(digestId('bob:'), 'bob:tK1fpNO1hB0F++FhHpSq0Fa4tv0=');
    assert.equal(digestId('nocolon'), 'nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g=');
    assert.equal(digestId('é:pä'), 'é:8ifFvEsmA3QJklJdoZoPetxNa28=');
  });
});

describe('authenticate', () => {
  it('digest adds the digest id', () => {
    assert.deepEqual(authenticate('digest', bytes('user:test')), [{ scheme: 'digest', id: 'user:tl+z3z0vO6PfPfEENfLF96E6pM0=' }]);
  });

  it('digest adds super first when it equals the super digest', () => {
    const superDigest = 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=';
    assert.deepEqual(authenticate('digest', bytes('super:test'), { superDigest }), [
      { scheme: 'super', id: '' },
      { scheme: 'digest', id: superDigest },
    ]);
    assert.deepEqual(authenticate('digest', bytes('super:wrong'), { superDigest }).map((id) => id.scheme), ['digest']);
  });

  it('ip adds the connection address', () => {
    assert.deepEqual(authenticate('ip', bytes('ignored'), { remoteAddress: '10.0.0.1' }), [{ scheme: 'ip', id: '10.0.0.1' }]);
  });

  it('fails unknown schemes, null digest data and ip without an address', () => {
    for (const [scheme, data, options] of [
      ['sasl', bytes('x'), {}],
      ['world', bytes('anyone'), {}],
      ['super', bytes(''), {}],
      ['digest', null, {}],
      ['ip', bytes(''), {}],
    ] as const) {
      assert.throws(
        () => authenticate(scheme, data, options),
        (error: unknown) => error instanceof AuthFailedError && error.code === ErrorCode.AuthFailed,
        scheme,
      );
    }
  });
});

describe('id validity', () => {
  it('digest ids follow Java split(":") with trailing empties dropped', () => {
    for (const id of ['u:h', ':h', 'u:h:', 'u:h::']) assert.equal(isValidDigestId(id), true, id);
    for (const id of ['', 'u', 'u:', '::', 'u:h:x', ':']) assert.equal(isValidDigestId(id), false, id);
  });

  it('ip ids: IPv4 with optional prefix length', () => {
    for (const id of ['10.0.0.1', '0.0.0.0', '255.255.255.255', '10.0.0.0/8', '10.0.0.1/32', '10.0.0.1/0', '010.1.1.1', '+1.2.3.4']) {
      assert.equal(isValidIpId(id), true, id);
    }
    for (const id of ['10.0.0', '10.0.0.256', '10.0.0.-1', '10.0.0.1/33', '10.0.0.1/-1', '10.0.0.1/x', 'a.b.c.d', '10..0.1', 'localhost', '', '10.0.0.1/']) {
      assert.equal(isValidIpId(id), false, id);
    }
  });

  it('ip ids: IPv6 text forms', () => {
    for (const id of ['::1', '::', 'fe80::1', '2001:db8::/32', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8/128', 'FE80::ABCD']) {
      assert.equal(isValidIpId(id), true, id);
    }
    for (const id of ['1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '1:2:3:4::5:6:7:8', '12345::', 'g::1', '::1/129', '::ffff:1.2.3.4', 'fe80::1%eth0']) {
      assert.equal(isValidIpId(id), false, id);
    }
  });
});

describe('fixupACL', () => {
  const ip: Id = { scheme: 'ip', id: '127.0.0.1' };
  const alice: Id = { scheme: 'digest', id: 'alice:hash' };
  const bob: Id = { scheme: 'digest', id: 'bob:hash' };
  const superId: Id = { scheme: 'super', id: '' };

  const invalid = (fn: () => unknown): void =>
    assert.throws(fn, (error: unknown) => error instanceof InvalidACLError && error.code === ErrorCode.InvalidACL);

  it('keeps valid world, digest and ip entries in order', () => {
    const input = [acl(31, 'world', 'anyone'), acl(1, 'digest', 'u:h'), acl(3, 'ip', '10.0.0.0/8')];
    assert.deepEqual(fixupACL(input, [ip]), input);
  });

  it('removes exact duplicates only (same perms and id)', () => {
    const input = [acl(31, 'world', 'anyone'), acl(31, 'world', 'anyone'), acl(1, 'world', 'anyone')];
    assert.deepEqual(fixupACL(input, []), [acl(31, 'world', 'anyone'), acl(1, 'world', 'anyone')]);
  });

  it('rejects an empty list', () => {
    invalid(() => fixupACL([], [ip]));
  });

  it('accepts world only with anyone', () => {
    invalid(() => fixupACL([acl(31, 'world', 'someone')], [ip]));
    invalid(() => fixupACL([acl(31, 'world', '')], [ip]));
  });

  it('expands auth to every authenticated (digest) id with the entry perms', () => {
    assert.deepEqual(fixupACL([acl(5, 'auth', '')], [ip, alice, superId, bob]), [
      { perms: 5, id: alice },
      { perms: 5, id: bob },
    ]);
    // the auth entry's own id text is ignored
    assert.deepEqual(fixupACL([acl(31, 'auth', 'whatever')], [alice]), [{ perms: 31, id: alice }]);
    assert.deepEqual(fixupACL([...CREATOR_ALL_ACL], [alice]), [{ perms: 31, id: alice }]);
  });

  it('rejects auth when the caller has only ip or super ids', () => {
    invalid(() => fixupACL([acl(31, 'auth', '')], [ip]));
    invalid(() => fixupACL([acl(31, 'auth', '')], [ip, superId]));
    invalid(() => fixupACL([acl(31, 'auth', '')], []));
  });

  it('validates digest and ip ids', () => {
    invalid(() => fixupACL([acl(31, 'digest', 'nocolon')], [ip]));
    invalid(() => fixupACL([acl(31, 'digest', 'a:b:c')], [ip]));
    invalid(() => fixupACL([acl(31, 'ip', '300.0.0.1')], [ip]));
    invalid(() => fixupACL([acl(31, 'ip', '10.0.0.1/40')], [ip]));
  });

  it('rejects unknown schemes, including super', () => {
    invalid(() => fixupACL([acl(31, 'sasl', 'user')], [ip]));
    invalid(() => fixupACL([acl(31, 'super', '')], [ip, superId]));
    invalid(() => fixupACL([acl(31, 'x509', 'CN=a')], [ip]));
  });

  it('one bad entry fails the whole list and the error carries the path', () => {
    assert.throws(
      () => fixupACL([acl(31, 'world', 'anyone'), acl(31, 'bogus', 'x')], [ip], '/node'),
      (error: unknown) => error instanceof InvalidACLError && error.path === '/node',
    );
  });

  it('does not validate perms (ZooKeeper accepts any int)', () => {
    assert.deepEqual(fixupACL([acl(0, 'world', 'anyone')], []), [acl(0, 'world', 'anyone')]);
    assert.deepEqual(fixupACL([acl(255, 'world', 'anyone')], []), [acl(255, 'world', 'anyone')]);
  });
});

describe('checkACL', () => {
  const ip: Id = { scheme: 'ip', id: '10.1.2.3' };
  const alice: Id = { scheme: 'digest', id: 'alice:hash' };

  it('passes an empty ACL', () => {
    assert.equal(checkACL([], Perms.ADMIN, []), true);
  });

  it('world:anyone passes for the granted bits only', () => {
    assert.equal(checkACL(READ_ACL_UNSAFE, Perms.READ, []), true);
    assert.equal(checkACL(READ_ACL_UNSAFE, Perms.WRITE, []), false);
    assert.equal(checkACL(OPEN_ACL_UNSAFE, Perms.DELETE, [ip]), true);
    // "any bit" semantics: READ|ADMIN wanted, READ granted
    assert.equal(checkACL(READ_ACL_UNSAFE, Perms.READ | Perms.ADMIN, []), true);
    assert.equal(checkACL([acl(31, 'world', 'other')], Perms.READ, []), false);
  });

  it('super passes everything', () => {
    assert.equal(checkACL([acl(Perms.READ, 'digest', 'x:y')], Perms.ADMIN, [{ scheme: 'super', id: '' }]), true);
  });

  it('digest matches by exact string', () => {
    const nodeAcl = [acl(Perms.ALL, 'digest', 'alice:hash')];
    assert.equal(checkACL(nodeAcl, Perms.WRITE, [ip, alice]), true);
    assert.equal(checkACL(nodeAcl, Perms.WRITE, [ip, { scheme: 'digest', id: 'alice:other' }]), false);
    assert.equal(checkACL(nodeAcl, Perms.WRITE, [{ scheme: 'ip', id: 'alice:hash' }]), false);
    assert.equal(checkACL([acl(Perms.READ, 'digest', 'alice:hash')], Perms.WRITE, [alice]), false);
  });

  it('ip matches exact addresses and CIDR prefixes', () => {
    assert.equal(checkACL([acl(31, 'ip', '10.1.2.3')], Perms.READ, [ip]), true);
    assert.equal(checkACL([acl(31, 'ip', '10.1.2.4')], Perms.READ, [ip]), false);
    assert.equal(checkACL([acl(31, 'ip', '10.1.0.0/16')], Perms.READ, [ip]), true);
    assert.equal(checkACL([acl(31, 'ip', '10.2.0.0/16')], Perms.READ, [ip]), false);
    assert.equal(checkACL([acl(31, 'ip', '0.0.0.0/0')], Perms.READ, [ip]), true);
  });

  it('entries for schemes without a matcher never match', () => {
    assert.equal(checkACL([acl(31, 'auth', '')], Perms.READ, [{ scheme: 'auth', id: '' }]), false);
    assert.equal(checkACL([acl(31, 'sasl', 'u')], Perms.READ, [{ scheme: 'sasl', id: 'u' }]), false);
  });

  it('checks later entries when earlier ones do not grant', () => {
    const nodeAcl = [acl(Perms.READ, 'world', 'anyone'), acl(Perms.ALL, 'digest', 'alice:hash')];
    assert.equal(checkACL(nodeAcl, Perms.ADMIN, [alice]), true);
    assert.equal(checkACL(nodeAcl, Perms.ADMIN, [ip]), false);
  });
});

describe('ipMatches', () => {
  it('masks partial bytes', () => {
    assert.equal(ipMatches('192.168.1.130', '192.168.1.128/25'), true);
    assert.equal(ipMatches('192.168.1.127', '192.168.1.128/25'), false);
    assert.equal(ipMatches('192.168.1.1', '192.168.1.200/24'), true); // host bits of the ACL are masked too
    assert.equal(ipMatches('11.0.0.1', '10.0.0.0/7'), true);
    assert.equal(ipMatches('12.0.0.1', '10.0.0.0/7'), false);
  });

  it('IPv6 exact and prefix, never across families', () => {
    assert.equal(ipMatches('::1', '::1'), true);
    assert.equal(ipMatches('0:0:0:0:0:0:0:1', '::1'), true);
    assert.equal(ipMatches('::2', '::1'), false);
    assert.equal(ipMatches('2001:db8:1::5', '2001:db8::/32'), true);
    assert.equal(ipMatches('2001:db9::5', '2001:db8::/32'), false);
    assert.equal(ipMatches('fe80::1', 'fe80::/10'), true);
    assert.equal(ipMatches('10.0.0.1', '::/0'), false);
    assert.equal(ipMatches('::1', '0.0.0.0/0'), false);
  });

  it('treats IPv4-mapped and zoned caller addresses as Java would report them', () => {
    assert.equal(ipIdOf('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(ipIdOf('fe80::1%eth0'), 'fe80::1');
    assert.equal(ipIdOf('10.0.0.1'), '10.0.0.1');
    assert.equal(ipMatches('::ffff:127.0.0.1', '127.0.0.0/8'), true);
  });

  it('invalid expressions or caller ids never match', () => {
    assert.equal(ipMatches('10.0.0.1', '10.0.0.1/33'), false);
    assert.equal(ipMatches('10.0.0.1', 'garbage'), false);
    assert.equal(ipMatches('garbage', '10.0.0.1'), false);
  });
});

describe('maskDigestIds', () => {
  it('shows digest ids as user:x and leaves others', () => {
    assert.deepEqual(maskDigestIds([acl(31, 'digest', 'alice:hash'), acl(1, 'world', 'anyone')]), [
      acl(31, 'digest', 'alice:x'),
      acl(1, 'world', 'anyone'),
    ]);
    assert.deepEqual(maskDigestIds([acl(31, 'digest', 'a:b:c')]), [acl(31, 'digest', 'a:x')]);
    assert.deepEqual(maskDigestIds([acl(31, 'digest', 'nocolon')]), [acl(31, 'digest', 'nocolon')]);
  });
});
