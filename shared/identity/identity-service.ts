import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import { geographyByKey } from '../geography/geographies.js';
import type { RateLimiter } from '../http/rate-limiter.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import { signAccessToken, verifyAccessTokenSignature, type IssuedToken } from './access-tokens.js';
import { isAcsUserId, newIdentityId, resourceIdOf } from './identity-id.js';
import { IdentityStore, type IdentityRecord } from './identity-store.js';
import { InFlightRequests } from './in-flight-requests.js';
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
  /** How long a deletion waits for the identity's requests under way on this instance. */
  inFlightDrainMs: number;
  issuer: string;
  deletionHooks: IdentityDeletionHook[];
}

type TokenClaims = Awaited<ReturnType<typeof verifyAccessTokenSignature>>;

export interface VerifiedCaller {
  identityId: string;
  scopes: TokenScope[];
  expiresAt: Date;
}

const DEFAULT_EXPIRES_IN_MINUTES = 1440;

export class IdentityService {
  readonly #generationCache = new Map<string, { generation: number | undefined; at: number }>();
  readonly #inFlight = new InFlightRequests();

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

  /**
   * Deletes an identity so that, when this answers, nothing of it remains whatever ran concurrently:
   * first it becomes unusable (`beginDeletion`: no token is issued or accepted from then on, and the
   * requests already under way on this instance are waited for), then the deletion hooks erase what
   * it left, then the record goes. A request that was under way on another instance finds the
   * identity gone when it finishes and erases what it wrote (see `eraseLeftovers`). Safe to retry.
   */
  async delete(resource: Resource, identityId: string): Promise<Record<string, number>> {
    this.#limit(resource, 'delete');
    await this.beginDeletion(resource, identityId);
    const removed = await this.eraseLeftovers(resource, identityId);
    await this.#store(resource).delete(identityId);
    this.#generationCache.delete(identityId);
    removed.identities = 1;
    return removed;
  }

  /**
   * Makes an identity unusable for good (its tokens revoked, no new one issued, none accepted), then
   * waits until no request of it is under way on this instance (at most `inFlightDrainMs`). Used by
   * identity deletion and by a data subject delete before they erase. Safe to call again.
   */
  async beginDeletion(resource: Resource, identityId: string): Promise<void> {
    await this.#bumpGeneration(resource, identityId, { deleting: true });
    await this.#inFlight.drained(identityId, this.deps.inFlightDrainMs);
  }

  /** Runs the deletion hooks (everything other modules keep of the identity); returns the counts. Idempotent. */
  async eraseLeftovers(resource: Resource, identityId: string): Promise<Record<string, number>> {
    const geo = this.deps.stores.forResource(resource);
    const removed: Record<string, number> = {};
    for (const hook of this.deps.deletionHooks) {
      for (const [kind, count] of Object.entries(await hook({ resource, geo, identityId }))) removed[kind] = (removed[kind] ?? 0) + count;
    }
    return removed;
  }

  /**
   * Runs a request of an identity (from token verification to its answer) as under way, so that a
   * deletion starting meanwhile waits for it on this instance.
   */
  whileUnderWay<T>(identityId: string, run: () => Promise<T>): Promise<T> {
    return this.#inFlight.run(identityId, run);
  }

  /**
   * Whether the identity still exists and is not being deleted (one point read, never from the cache).
   * With the revocation cache on, what it read is kept as the identity's generation: the check after a
   * write then serves the revocation lookups of the caller's next requests on this instance.
   */
  async isUsable(resource: Resource, identityId: string): Promise<boolean> {
    const readAt = Date.now();
    const record = await this.#store(resource).get(identityId);
    const usable = record !== undefined && !record.deletingSince;
    this.#keepGeneration(identityId, usable ? record.tokenGeneration : undefined, readAt);
    return usable;
  }

  /**
   * Verifies a bearer token for a resource: signature and expiry, that it was issued for this
   * resource, and one revocation lookup (a point read, optionally cached for a few seconds).
   */
  async verify(resource: Resource, token: string): Promise<VerifiedCaller> {
    return this.verifyCurrent(resource, await this.verifySignature(resource, token));
  }

  /** The revocation lookup of a token whose signature was verified: its generation must be the identity's. */
  async verifyCurrent(resource: Resource, claims: TokenClaims): Promise<VerifiedCaller> {
    const generation = await this.#currentGeneration(resource, claims.sub);
    if (generation === undefined || generation !== claims.gen) throw invalid();
    return { identityId: claims.sub, scopes: claims.scopes, expiresAt: new Date(claims.exp * 1000) };
  }

  /** The token's signature, expiry and resource, without the revocation lookup. */
  async verifySignature(resource: Resource, token: string): Promise<TokenClaims> {
    const claims = await verifyAccessTokenSignature(this.deps.keyRing, token, this.deps.clock.now(), { issuer: this.deps.issuer });
    if (claims.resourceId !== resource.id || resourceIdOf(claims.sub) !== resource.id) throw invalid();
    return claims;
  }

  #store(resource: Resource): IdentityStore {
    return new IdentityStore(this.deps.stores.forResource(resource));
  }

  /** The identity's record; one being deleted counts as gone, except to the deletion itself (`deleting`). */
  async #existing(resource: Resource, identityId: string, options: { deleting?: boolean } = {}): Promise<IdentityRecord> {
    // As ACS answers: a well-formed identity of another resource is not this resource's to touch (401).
    const ours = resourceIdOf(identityId) === resource.id;
    if (!ours && isAcsUserId(identityId)) throw new ServiceError('IdentityNotOwned', "Provided identity doesn't belong to the resource.");
    const record = ours ? await this.#store(resource).get(identityId) : undefined;
    if (!record || (record.deletingSince && !options.deleting)) throw new ServiceError('NotFound', "Provided identity doesn't exist.", { target: 'id' });
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

  async #bumpGeneration(resource: Resource, identityId: string, options: { deleting?: boolean } = {}): Promise<void> {
    const store = this.#store(resource);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const record = await this.#existing(resource, identityId, options);
      const now = this.deps.clock.now().toISOString();
      const updated = {
        ...record,
        tokenGeneration: record.tokenGeneration + 1,
        tokensRevokedAt: now,
        ...(options.deleting ? { deletingSince: record.deletingSince ?? now } : {}),
      };
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
    const generation = record && !record.deletingSince ? record.tokenGeneration : undefined;
    this.#keepGeneration(identityId, generation, now);
    return generation;
  }

  /** Keeps a generation read at `at` (wall time, before the read) while the revocation cache is on. */
  #keepGeneration(identityId: string, generation: number | undefined, at: number): void {
    if (this.deps.revocationCacheMs > 0) this.#generationCache.set(identityId, { generation, at });
  }

  #limit(resource: Resource, kind: 'create' | 'delete'): void {
    const limit = kind === 'create' ? this.deps.limits.createAndIssue : this.deps.limits.deleteAndRevoke;
    this.deps.rateLimiter.take(`${resource.id}:identity.${kind}`, limit, this.deps.limits.windowMs);
  }
}

const invalid = () => new ServiceError('Unauthorized', 'The access token is not valid.', { headers: { 'www-authenticate': 'Bearer' } });
