/** Watch events produced by the tree's `apply`, consumed by the watch registry. */
import type { EventType } from '../protocol/constants.js';

/**
 * One watch trigger, in the order ZooKeeper's DataTree fires them (§13.2):
 * create P → NodeCreated P, NodeChildrenChanged parent(P); delete P → NodeDeleted P,
 * NodeChildrenChanged parent(P); setData P → NodeDataChanged P.
 */
export interface WatchEvent {
  /** The event type (NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged). */
  type: EventType;
  /** The znode path the event concerns. */
  path: string;
}
