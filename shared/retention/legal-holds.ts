import { isThreadId } from '../chat/chat-records.js';
import { isAcsUserId } from '../identity/identity-id.js';
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import { resourceIdOf } from '../identity/identity-id.js';
import type { Resource } from '../resources/resource.js';
import type { StoreDirectory } from '../stores/store-directory.js';

/**
 * Legal holds: a thread or an identity of a resource that no purge may delete while the hold is
 * in place. Kept in the resource's geography (container `legalHolds`, partition key `/resourceId`);
 * a released hold stays, with when and why it was released.
 */
export const placeHoldBodySchema = z.strictObject({
  target: z.discriminatedUnion(
    'kind',
    [
      z.strictObject({ kind: z.literal('thread'), threadId: z.string().refine(isThreadId, 'threadId must be a chat thread id (19:...@thread.v2)') }),
      z.strictObject({ kind: z.literal('identity'), identityId: z.string().refine(isAcsUserId, "identityId must be a communication user id ('8:acs:...')") }),
    ],
    { error: "target.kind must be 'thread' or 'identity'" },
  ),
  reason: z.string({ error: 'reason is required' }).trim().min(1, 'reason is required').max(1000, 'reason must be at most 1000 characters'),
});
export type PlaceHoldBody = z.infer<typeof placeHoldBodySchema>;

export const releaseHoldBodySchema = z.strictObject({
  reason: z.string().trim().min(1).max(1000, 'reason must be at most 1000 characters').optional(),
});

export interface LegalHold {
  id: string;
  resourceId: string;
  kind: 'legalHold';
  target: PlaceHoldBody['target'];
  reason: string;
  placedAt: string;
  releasedAt?: string | null;
  releaseReason?: string | null;
}

/** What a purge must leave alone for one resource: the holds in force, by what they hold. */
export interface ActiveHolds {
  threads: Map<string, string[]>;
  identities: Map<string, string[]>;
}

/** A hold as stored and answered: its own fields, none of the store's (`_etag`, `_rid`, ...). */
const holdView = ({ id, resourceId, kind, target, reason, placedAt, releasedAt, releaseReason }: LegalHold): LegalHold => ({ id, resourceId, kind, target, reason, placedAt, releasedAt, releaseReason });

export const holdTargetId = (hold: Pick<LegalHold, 'target'>) => (hold.target.kind === 'thread' ? hold.target.threadId : hold.target.identityId);

export class LegalHolds {
  constructor(private readonly deps: { stores: StoreDirectory; clock: Clock }) {}

  async place(resource: Resource, input: PlaceHoldBody): Promise<LegalHold> {
    if (input.target.kind === 'identity' && resourceIdOf(input.target.identityId) !== resource.id) {
      throw new ServiceError('ValidationError', 'The identity does not belong to this resource.', { target: 'target.identityId' });
    }
    const hold: LegalHold = {
      id: randomUUID(),
      resourceId: resource.id,
      kind: 'legalHold',
      target: input.target,
      reason: input.reason,
      placedAt: this.deps.clock.now().toISOString(),
      releasedAt: null,
    };
    await (await this.#container(resource)).items.create(hold);
    return hold;
  }

  /** Releases a hold (a released one is answered as it is). */
  async release(resource: Resource, holdId: string, reason: string | undefined): Promise<LegalHold> {
    const container = await this.#container(resource);
    const { resource: hold } = await container.item(holdId, resource.id).read<LegalHold>();
    if (!hold || hold.kind !== 'legalHold') throw new ServiceError('NotFound', `Legal hold '${holdId.slice(0, 64)}' was not found.`, { target: 'holdId' });
    if (hold.releasedAt) return holdView(hold);
    const released: LegalHold = { ...holdView(hold), releasedAt: this.deps.clock.now().toISOString(), releaseReason: reason ?? null };
    await container.items.upsert(released);
    return released;
  }

  async list(resource: Resource): Promise<LegalHold[]> {
    const container = await this.#container(resource);
    const { resources } = await container.items
      .query<LegalHold>({ query: "SELECT * FROM c WHERE c.resourceId = @rid AND c.kind = 'legalHold' ORDER BY c.placedAt DESC", parameters: [{ name: '@rid', value: resource.id }] }, { partitionKey: resource.id })
      .fetchAll();
    return resources.map(holdView);
  }

  async active(resource: Resource): Promise<ActiveHolds> {
    const holds: ActiveHolds = { threads: new Map(), identities: new Map() };
    for (const hold of await this.list(resource)) {
      if (hold.releasedAt) continue;
      const map = hold.target.kind === 'thread' ? holds.threads : holds.identities;
      map.set(holdTargetId(hold), [...(map.get(holdTargetId(hold)) ?? []), hold.id]);
    }
    return holds;
  }

  #container(resource: Resource) {
    return this.deps.stores.forResource(resource).container('legalHolds');
  }
}
