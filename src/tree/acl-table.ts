/**
 * Interned ACL lists (ZooKeeper's `ReferenceCountedACLCache`): almost every znode shares
 * one of a handful of ACLs, so each node stores a small integer id instead of its own
 * list. Entries are reference counted and dropped when no node uses them.
 */
import type { ACL } from '../protocol/records.js';
import { Hasher } from './hash.js';

/** One interned ACL list. */
export interface AclEntry {
  /** The list itself, frozen (callers must not mutate it). */
  readonly acl: readonly ACL[];
  /** Canonical text, unique per distinct list (order matters, as in ZooKeeper). */
  readonly key: string;
  /** Number of znodes using it. */
  refs: number;
  /** Digest contribution of the list. */
  readonly hashLo: number;
  readonly hashHi: number;
}

/** The canonical text of an ACL list: length-prefixed so no two lists share it. */
export function aclKey(acl: readonly ACL[]): string {
  let key = '';
  for (let i = 0; i < acl.length; i++) {
    const { perms, id } = acl[i]!;
    key += `${perms}|${id.scheme.length}:${id.scheme}${id.id.length}:${id.id};`;
  }
  return key;
}

function sameAcl(a: readonly ACL[], b: readonly ACL[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.perms !== y.perms || x.id.scheme !== y.id.scheme || x.id.id !== y.id.id) return false;
  }
  return true;
}

/** A reference-counted table of ACL lists indexed by small integers. */
export class AclTable {
  private readonly byKey = new Map<string, number>();
  private readonly entries: (AclEntry | undefined)[] = [];
  private readonly free: number[] = [];
  private readonly hasher = new Hasher();
  // The last list interned: consecutive creates nearly always repeat it.
  private lastId = -1;

  /** Number of distinct lists in use. */
  get size(): number {
    return this.byKey.size;
  }

  /** The id of `acl`, adding it if new, and count one more user. */
  intern(acl: readonly ACL[]): number {
    const last = this.lastId;
    if (last >= 0) {
      const entry = this.entries[last];
      if (entry !== undefined && sameAcl(entry.acl, acl)) {
        entry.refs++;
        return last;
      }
    }
    const key = aclKey(acl);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.free.length > 0 ? this.free.pop()! : this.entries.length;
      const h = this.hasher;
      h.reset();
      h.string(key);
      h.finish();
      const frozen = Object.freeze(
        acl.map((a) => Object.freeze({ perms: a.perms, id: Object.freeze({ scheme: a.id.scheme, id: a.id.id }) })),
      );
      this.entries[id] = { acl: frozen, key, refs: 0, hashLo: h.lo, hashHi: h.hi };
      this.byKey.set(key, id);
    }
    this.entries[id]!.refs++;
    this.lastId = id;
    return id;
  }

  /** Count one more user of a live entry. */
  addRef(id: number): void {
    this.entries[id]!.refs++;
  }

  /** Count one user less; the entry goes away with its last user. */
  release(id: number): void {
    const entry = this.entries[id]!;
    if (--entry.refs === 0) {
      this.byKey.delete(entry.key);
      this.entries[id] = undefined;
      this.free.push(id);
      if (this.lastId === id) this.lastId = -1;
    }
  }

  /** The entry with this id (which must be live). */
  get(id: number): AclEntry {
    return this.entries[id]!;
  }

  /** Every live entry with its id, in id order. */
  *[Symbol.iterator](): IterableIterator<[number, AclEntry]> {
    for (let id = 0; id < this.entries.length; id++) {
      const entry = this.entries[id];
      if (entry !== undefined) yield [id, entry];
    }
  }
}
