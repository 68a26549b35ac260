/** fast-check arbitraries shared by the tree's property tests: requests, sessions, auth. */
import fc from 'fast-check';
import { OpCode, Perms } from '../../../src/protocol/constants.js';
import type { ACL, Id, MultiWriteOp, SessionId } from '../../../src/protocol/records.js';
import { digestId } from '../../../src/tree/acl.js';
import type { PrepareRequest } from '../../../src/tree/prepare.js';

const alice: Id = { scheme: 'digest', id: digestId('alice:pw') };
/** ACL lists requests pick from: open, restricted, digest, `auth`, empty (invalid). */
export const ACLS: ACL[][] = [
  [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: Perms.READ | Perms.CREATE | Perms.DELETE, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: Perms.ALL, id: alice }],
  [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }],
  [],
];
/** Connection auth id sets: none, alice's digest, super. */
export const AUTH: Id[][] = [[], [alice], [{ scheme: 'super', id: '' }]];
/** Session ids requests run under. */
export const SESSIONS: SessionId[] = [0x0100_0000_0000_0001n, 0x0100_0000_0000_0002n, 0x0200_0000_0000_0003n];

const name = fc.constantFrom('a', 'b', 'c');
/** A valid path, 1–3 segments of a/b/c (shallow ones dominate, so most creates find a parent). */
export const path = fc
  .oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 3, arbitrary: fc.constant(2) }, { weight: 2, arbitrary: fc.constant(3) })
  .chain((depth) => fc.array(name, { minLength: depth, maxLength: depth }))
  .map((parts) => '/' + parts.join('/'));
/** Mostly valid paths, sometimes a system or malformed one. */
export const anyPath = fc.oneof({ weight: 8, arbitrary: path }, { weight: 1, arbitrary: fc.constantFrom('/', '/zookeeper', 'bad', '/a/', '/a//b', '') });
const data = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 6 }));
const version = fc.constantFrom(-1, -1, 0, 1, 2);
const aclIndex = fc.nat(ACLS.length - 1);

const createReq = fc.record({
  type: fc.constantFrom(OpCode.create, OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL),
  path: anyPath,
  data,
  acl: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: aclIndex }).map((i) => ACLS[i]!),
  flags: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.constant(1) },
    { weight: 6, arbitrary: fc.nat(6) },
    { weight: 1, arbitrary: fc.constantFrom(7, -1) },
  ),
  ttl: fc.constantFrom(-1, 0, 50, 1000),
}).map((r) => (r.type === OpCode.createTTL ? r : { ...r, ttl: undefined }));
const deleteReq = fc.record({ type: fc.constant(OpCode.delete), path: anyPath, version });
const setDataReq = fc.record({ type: fc.constant(OpCode.setData), path: anyPath, data, version });
const checkReq = fc.record({ type: fc.constant(OpCode.check), path: anyPath, version });
const setAclReq = fc.record({ type: fc.constant(OpCode.setACL), path: anyPath, acl: aclIndex.map((i) => ACLS[i]!), version });
const multiOp = fc.oneof(createReq, deleteReq, setDataReq, checkReq) as fc.Arbitrary<MultiWriteOp>;

/** Any request `prepare` accepts. */
export const request: fc.Arbitrary<PrepareRequest> = fc.oneof(
  { weight: 6, arbitrary: createReq as fc.Arbitrary<PrepareRequest> },
  { weight: 3, arbitrary: deleteReq },
  { weight: 3, arbitrary: setDataReq },
  { weight: 1, arbitrary: setAclReq },
  { weight: 1, arbitrary: checkReq },
  { weight: 2, arbitrary: fc.array(multiOp, { maxLength: 4 }).map((ops) => ({ type: OpCode.multi, ops })) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(OpCode.createSession), timeout: fc.constantFrom(1000, 4000) }) },
  { weight: 1, arbitrary: fc.constant({ type: OpCode.closeSession }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(OpCode.deleteContainer), path }) },
);

/** One step of a prepare/apply run. */
export type Step =
  | { kind: 'write'; request: PrepareRequest; session: number; auth: number; dt: number }
  | { kind: 'apply'; count: number }
  | { kind: 'snapshot' }
  | { kind: 'sweep' };

/** A step: a write, applying some outstanding txns, a snapshot, or a container/TTL sweep. */
export const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('write' as const), request, session: fc.nat(2), auth: fc.nat(2), dt: fc.nat(400) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('apply' as const), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
);
