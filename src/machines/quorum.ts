/** Ensemble membership and the majority rule (ZooKeeper's `QuorumMaj`, §16.2). */
import type { ServerId } from '../protocol/peer.js';

/** Who is in the ensemble. Observers never vote and never count in a quorum. */
export interface Membership {
  /** Voting members (participants). */
  readonly voters: readonly ServerId[];
  /** Non-voting members. */
  readonly observers: readonly ServerId[];
}

/** The smallest number of voters that forms a quorum: a strict majority. */
export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/** True if the voters among `ids` form a majority of `membership.voters`. */
export function isQuorum(ids: Iterable<ServerId>, membership: Membership): boolean {
  let count = 0;
  const seen = new Set<ServerId>();
  for (const id of ids) {
    if (!seen.has(id) && membership.voters.includes(id)) {
      seen.add(id);
      count++;
    }
  }
  return count >= quorumSize(membership.voters.length);
}

/** True if `id` votes. */
export function isVoter(membership: Membership, id: ServerId): boolean {
  return membership.voters.includes(id);
}

/** Check a membership: ids are distinct positive integers, at least one voter. */
export function validateMembership(membership: Membership): void {
  const all = [...membership.voters, ...membership.observers];
  if (membership.voters.length === 0) throw new RangeError('membership: no voters');
  if (new Set(all).size !== all.length) throw new RangeError('membership: duplicate server id');
  for (const id of all) if (!Number.isInteger(id) || id < 0) throw new RangeError(`membership: bad server id ${id}`);
}
