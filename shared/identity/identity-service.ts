import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import { geographyByKey } from '../geography/geographies.js';
import type { RateLimiter } from '../http/rate-limiter.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import { signAccessToken, verifyAccessTokenSignature, type IssuedToken } from './access-tokens.js';
import { newIdentityId, resourceIdOf } from './identity-id.js';
import { IdentityStore, type IdentityRecord } from './identity-store.js';
import type { TokenKeyRing } from './token-key-ring.js';
import type { TokenScope } from './token-scopes.js';

/**
 * What other modules do when an identity is deleted (the chat module deletes its messages and
 * participations). Runs after the identity's tokens are revoked and before its record goes; returns
 * counts of what it removed. Must be safe to run again.
 */
export type IdentityDeletionHook = (input: { resource: Resource; geo: GeoStore; identityId: string }) => Promise<Record<string, number>>;

export interface IdentityServiceDeps {
  stores: StoreDirectory;
  keyRing: TokenKeyRing;
  clock: Clock;
  rateLimiter: RateLimiter;
  limits: { windowMs: number; createAndIssue: number; deleteAndRevoke: number };
  revocationCacheMs: number;
  issuer: string;
  deletionHooks: IdentityDeletionHook[];
}

export interface VerifiedCaller {
  identityId: string;
  scopes: TokenScope[];
  expiresAt: Date;
}

const DEFAULT_EXPIRES_IN_MINUTES = 1440;

export class IdentityService {
  readonly #generationCache = new Map<string, { generation: number | undefined; at: number }>();

  constructor(private readonly deps: IdentityServiceDeps) {}

  rotateSigningKey(): Promise<string> {
    return this.deps.keyRing.rotate();
  }

  addDeletionHook(hook: IdentityDeletionHook): void {
    this.deps.deletionHooks.push(hook);
  }

  async create(resource: Resource, input: { scopes?: TokenScope[]; expiresInMinutes?: number }): Promise<{ identity: { id: string }; accessToken?: IssuedToken }> {
    this.#limit(resource, 'create');
    const now = this.deps.clock.now();
    const record: IdentityRecord = { id: newIdentityId(resource.id), resourceId: resource.id, createdAt: now.toISOString(), tokenGeneration: 0 };
    await this.#store(resource).create(record);
    if (!input.scopes) return { identity: { id: record.id } };
    const accessToken = await this.#sign(resource, record, input.scopes, input.expiresInMinutes);
    return { identity: { id: record.id }, accessToken };
  }

  async issueToken(resource: Resource, identityId: string, scopes: TokenScope[], expiresInMinutes?: number): Promise<IssuedToken> {
    this.#limit(resource, 'create');
    const record = await this.#existing(resource, identityId);
    return this.#sign(resource, record, scopes, expiresInMinutes);
  }

  /** Every token issued before this call stops working, even one issued in the same millisecond. */
  async revokeTokens(resource: Resource, identityId: string): Promise<void> {
    this.#limit(resource, 'delete');
    await this.#bumpGeneration(resource, identityId);
  }

  /** Revokes the identity's tokens, runs the deletion hooks, then deletes the identity. Safe to retry. */
  async delete(resource: Resource, identityId: string): Promise<Record<string, number>> {
    this.#limit(resource, 'delete');
    await this.#bumpGeneration(resource, identityId);
    const geo = this.deps.stores.forResource(resource);
    const removed: Record<string, number> = {};
    for (const hook of this.deps.deletionHooks) {
      for (const [kind, count] of Object.entries(await hook({ resource, geo, identityId }))) removed[kind] = (removed[kind] ?? 0) + count;
    }
    await this.#store(resource).delete(identityId);
    this.#generationCache.delete(identityId);
    removed.identities = 1;
    return removed;
  }

  /**
   * Verifies a bearer token for a resource: signature and expiry, that it was issued for this
   * resource, and one revocation lookup (a point read, optionally cached for a few seconds).
   */
  async verify(resource: Resource, token: string): Promise<VerifiedCaller> {
    const claims = await verifyAccessTokenSignature(this.deps.keyRing, token, this.deps.clock.now());
    const invalid = () => new ServiceError('Unauthorized', 'The access token is not valid.', { headers: { 'www-authenticate': 'Bearer' } });
    if (claims.resourceId !== resource.id || resourceIdOf(claims.sub) !== resource.id) throw invalid();
    const generation = await this.#currentGeneration(resource, claims.sub);
    if (generation === undefined || generation !== claims.gen) throw invalid();
    return { identityId: claims.sub, scopes: claims.scopes, expiresAt: new Date(claims.exp * 1000) };
  }

  #store(resource: Resource): IdentityStore {
    return new IdentityStore(this.deps.stores.forResource(resource));
  }

  async #existing(resource: Resource, identityId: string): Promise<IdentityRecord> {
    const record = resourceIdOf(identityId) === resource.id ? await this.#store(resource).get(identityId) : undefined;
    if (!record) throw new ServiceError('NotFound', `Identity '${identityId}' was not found.`, { target: 'id' });
    return record;
  }

  async #sign(resource: Resource, record: IdentityRecord, scopes: TokenScope[], expiresInMinutes = DEFAULT_EXPIRES_IN_MINUTES): Promise<IssuedToken> {
    return signAccessToken(this.deps.keyRing, {
      identityId: record.id,
      resourceId: resource.id,
      geography: geographyByKey(resource.geographyKey).name,
      scopes,
      generation: record.tokenGeneration,
      now: this.deps.clock.now(),
      expiresInMinutes,
      issuer: this.deps.issuer,
    });
  }

  async #bumpGeneration(resource: Resource, identityId: string): Promise<void> {
    const store = this.#store(resource);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const record = await this.#existing(resource, identityId);
      const updated = { ...record, tokenGeneration: record.tokenGeneration + 1, tokensRevokedAt: this.deps.clock.now().toISOString() };
      if (await store.replace(updated)) {
        this.#generationCache.delete(identityId);
        return;
      }
    }
    throw new ServiceError('Conflict', `Identity '${identityId}' is being changed concurrently; try again.`);
  }

  async #currentGeneration(resource: Resource, identityId: string): Promise<number | undefined> {
    const cached = this.#generationCache.get(identityId);
    const now = Date.now();
    if (cached && now - cached.at < this.deps.revocationCacheMs) return cached.generation;
    const record = await this.#store(resource).get(identityId);
    const generation = record?.tokenGeneration;
    if (this.deps.revocationCacheMs > 0) this.#generationCache.set(identityId, { generation, at: now });
    return generation;
  }

  #limit(resource: Resource, kind: 'create' | 'delete'): void {
    const limit = kind === 'create' ? this.deps.limits.createAndIssue : this.deps.limits.deleteAndRevoke;
    this.deps.rateLimiter.take(`${resource.id}:identity.${kind}`, limit, this.deps.limits.windowMs);
  }
}
