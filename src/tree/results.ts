/**
 * Turning apply outcomes into the client protocol's multi results (§12.1). Only the
 * server holding the connection knows which opcode each op had (create vs create2), so
 * it pairs its request with the outcome here.
 */
import { OpCode } from '../protocol/constants.js';
import type { MultiWriteOp, OpResult } from '../protocol/records.js';
import type { OpOutcome } from './data-tree.js';

/**
 * The `MultiResponse` results for a multi's ops and their outcomes: op 1 → `{type 1,
 * path}`; ops 15, 19, 21 → `{type 15, path, stat}` (3.8.2+); delete → 2; setData → 5
 * with stat; check → 13; a failed op → `{type -1, err}`.
 */
export function toOpResults(ops: readonly MultiWriteOp[], outcomes: readonly OpOutcome[]): OpResult[] {
  const results: OpResult[] = [];
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i]!;
    switch (outcome.kind) {
      case 'create':
        results.push(
          ops[i]?.type === OpCode.create
            ? { type: OpCode.create, path: outcome.path }
            : { type: OpCode.create2, path: outcome.path, stat: outcome.stat },
        );
        break;
      case 'delete':
        results.push({ type: OpCode.delete });
        break;
      case 'setData':
        results.push({ type: OpCode.setData, stat: outcome.stat });
        break;
      case 'check':
        results.push({ type: OpCode.check });
        break;
      case 'error':
        results.push({ type: OpCode.error, err: outcome.err });
        break;
      case 'setACL':
        // setACL is not a multi op; report it as an error rather than invent a type.
        results.push({ type: OpCode.error, err: 0 });
        break;
    }
  }
  return results;
}
