import type { Container } from '@azure/cosmos';
import { eachAtMost } from '../each-at-most.js';
import { runBatch } from '../stores/cosmos-batch.js';
import { deleteIfExists } from '../stores/cosmos-items.js';
import type { ControlStore } from '../stores/control-store.js';
import type { GeoStore } from '../stores/geo-store.js';
import { applySteps, WRITES_AT_ONCE } from './apply-steps.js';
import type { OutboxEntry } from './outbox.js';
import { batchOperation, partitionRuns, patchOperations, type ChangeStamp, type StoreOp, type StoreTarget } from './store-ops.js';

/**
 * Applies an outbox change's operations (outbox.ts): a partition's consecutive operations as one
 * transactional batch, one by one when it is refused or its outcome unknown; a redo reads before it
 * writes, skipping what the change already wrote and never overwriting a newer change.
 */
export class ChangeApplier {
  constructor(private readonly deps: { geo: GeoStore; control: ControlStore }) {}

  async apply(entry: Pick<OutboxEntry, 'id' | 'createdAt' | 'ops'>, redo: boolean): Promise<void> {
    const stamp: ChangeStamp = { id: entry.id, at: entry.createdAt };
    for (const step of applySteps(partitionRuns(entry.ops))) {
      const group = step.ops;
      const container = await this.#container(group[0]!.target);
      if (step.kind === 'independent') {
        await eachAtMost(group, WRITES_AT_ONCE, (op) => this.#applyOne(container, op, stamp, redo));
        continue;
      }
      // A redo reads before it writes (to skip what the change already did): one by one.
      const outcome = !redo && group.length > 1 ? await runBatch(container, group[0]!.partitionKey, group.map((op) => batchOperation(op, stamp))) : 'refused';
      if (outcome === 'applied') continue;
      // Refused: nothing of it was applied. Unknown: it may have been, so one by one as a redo.
      for (const op of group) await this.#applyOne(container, op, stamp, redo || outcome === 'unknown');
    }
  }

  async #applyOne(container: Container, op: StoreOp, stamp: ChangeStamp, redo: boolean): Promise<void> {
    if (op.op === 'delete') {
      if (op.ifMatch === undefined) {
        await deleteIfExists(container, op.id, op.partitionKey);
        return;
      }
      try {
        await container.item(op.id, op.partitionKey).delete({ accessCondition: { type: 'IfMatch', condition: op.ifMatch } });
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code === 404) return;
        if (code !== 412) throw error;
        // Changed since: marked instead, for whoever finishes the deletion.
        if (op.elseSet) await this.#patch(container, { op: 'patch', target: op.target, id: op.id, partitionKey: op.partitionKey, set: op.elseSet }, stamp, redo);
      }
      return;
    }
    if (op.op === 'patch') {
      await this.#patch(container, op, stamp, redo);
      return;
    }
    const item = { ...op.item, changeStamp: stamp };
    if (!redo) {
      await container.items.upsert(item);
      return;
    }
    // A redo: skip what this change already wrote, and never overwrite a newer change.
    const { resource: current } = await container.item(op.item.id, op.partitionKey).read<{ changeStamp?: ChangeStamp }>();
    if (current?.changeStamp && (current.changeStamp.id === stamp.id || current.changeStamp.at > stamp.at)) return;
    await container.items.upsert(item);
  }

  async #patch(container: Container, op: Extract<StoreOp, { op: 'patch' }>, stamp: ChangeStamp, redo: boolean): Promise<void> {
    const item = container.item(op.id, op.partitionKey);
    if (redo) {
      const { resource: current } = await item.read<{ changeStamp?: ChangeStamp }>();
      if (!current || (current.changeStamp && (current.changeStamp.id === stamp.id || current.changeStamp.at > stamp.at))) return;
    }
    const operations = patchOperations(op, stamp);
    try {
      await item.patch(op.condition ? { condition: op.condition, operations } : operations);
    } catch (error) {
      // Gone (a later change deleted it), or no longer matching the condition.
      const code = (error as { code?: number }).code;
      if (code !== 404 && code !== 412) throw error;
    }
  }

  #container(target: StoreTarget): Promise<Container> {
    return target.plane === 'geo' ? this.deps.geo.container(target.container) : this.deps.control.container(target.container);
  }
}
