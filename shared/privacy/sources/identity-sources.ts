import { ServiceError } from '../../errors/service-error.js';
import { IdentityStore, type IdentityRecord } from '../../identity/identity-store.js';
import { heldByIdentities, type FoundItem, type PrivacyContext, type SubjectSource } from './subject-source.js';

/** The subjects' identities (container `identities`), one point read each. */
async function identityRecords(ctx: PrivacyContext): Promise<IdentityRecord[]> {
  const store = new IdentityStore(ctx.geo);
  const records = await Promise.all(ctx.subjects.identityIds.map((id) => store.get(id)));
  return records.filter((r): r is IdentityRecord => r !== undefined && r.resourceId === ctx.resource.id);
}

const tokenFacts = (r: IdentityRecord) => ({ tokenGeneration: r.tokenGeneration, tokensRevokedAt: r.tokensRevokedAt ?? null });

/**
 * Delete only, first: the identities become unusable (every token stops working, none is issued,
 * and their requests under way are waited for), so nothing new is written about them while they are
 * erased.
 */
export const tokenSource: SubjectSource = {
  name: 'accessTokens',
  async page(ctx) {
    const items: FoundItem[] = (await identityRecords(ctx)).map((r) => ({ kind: 'accessTokens', id: r.id, heldBy: heldByIdentities(ctx.holds, [r.id]), facts: tokenFacts(r), ref: r.id }));
    return { items, next: null };
  },
  async erase(ctx, refs) {
    for (const id of refs as string[]) {
      await ctx.identities.beginDeletion(ctx.resource, id).catch((error: unknown) => {
        if (!(error instanceof ServiceError && error.code === 'NotFound')) throw error;
      });
    }
  },
};

/** The identities themselves, with their token state; erased after everything that names them. */
export const identitySource: SubjectSource = {
  name: 'identities',
  section: 'identities',
  async page(ctx) {
    const items: FoundItem[] = (await identityRecords(ctx)).map((r) => ({
      kind: 'identity',
      id: r.id,
      heldBy: heldByIdentities(ctx.holds, [r.id]),
      facts: tokenFacts(r),
      view: { id: r.id, createdAt: r.createdAt, ...tokenFacts(r) },
      ref: r.id,
    }));
    return { items, next: null };
  },
  async erase(ctx, refs) {
    const store = new IdentityStore(ctx.geo);
    for (const id of refs as string[]) await store.delete(id);
  },
};
