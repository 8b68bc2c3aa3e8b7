import type { StoreOp } from './outbox.js';

/** How many independent writes of one change are in flight at once. */
export const WRITES_AT_ONCE = 16;

/**
 * One step of applying a change: `partition` is a run of consecutive operations on one partition of
 * one container (one transactional batch when it holds more than one); `independent` is a run of
 * single operations that may go side by side.
 */
export type ApplyStep = { kind: 'partition'; ops: StoreOp[] } | { kind: 'independent'; ops: StoreOp[] };

/** An operation that reads nothing and holds under no condition: an upsert, or a delete without an etag. */
const unconditional = (op: StoreOp) => op.op === 'upsert' || (op.op === 'delete' && op.ifMatch === undefined);

const containerOf = (op: StoreOp) => `${op.target.plane}/${op.target.container}`;

/**
 * The steps a change's partition runs (see partitionRuns in outbox.ts) are applied in, one after
 * another. Consecutive runs of a single unconditional operation on the same container, each on a
 * partition none of the others names, become one `independent` step: none of them depends on
 * another (no two touch the same item, none reads or holds under a condition), so they may be applied
 * side by side, and everything after them still waits for all of them. That is a thread's
 * memberships: one item per participant, each in the participant's own partition, written one
 * request after another before (a thread of 250 is 250 round trips in a row).
 */
export function applySteps(runs: StoreOp[][]): ApplyStep[] {
  const steps: ApplyStep[] = [];
  let open: { ops: StoreOp[]; partitions: Set<string> } | undefined;
  for (const run of runs) {
    const op = run.length === 1 ? run[0]! : undefined;
    if (op && unconditional(op)) {
      if (open && containerOf(open.ops[0]!) === containerOf(op) && !open.partitions.has(op.partitionKey)) {
        open.ops.push(op);
        open.partitions.add(op.partitionKey);
        continue;
      }
      open = { ops: [op], partitions: new Set([op.partitionKey]) };
      steps.push({ kind: 'independent', ops: open.ops });
      continue;
    }
    open = undefined;
    steps.push({ kind: 'partition', ops: run });
  }
  // A lone operation is applied as it always was.
  return steps.map((step) => (step.kind === 'independent' && step.ops.length === 1 ? { kind: 'partition', ops: step.ops } : step));
}
