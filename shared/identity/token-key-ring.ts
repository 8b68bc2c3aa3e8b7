import { randomUUID } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import type { Container } from '@azure/cosmos';
import type { Clock } from '../clock.js';
import type { ControlStore } from '../stores/control-store.js';
import { ACCESS_TOKEN_CLOCK_SKEW_SECONDS } from './access-tokens.js';
import { loadJose } from './jose.js';

/**
 * The keys that sign access tokens (ES256), kept in the control plane and rotated by age. A retired
 * key still verifies until the last token it could have signed has expired, so rotation never cuts
 * a valid token short.
 */
export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  createdAt: string;
  retiredAt?: string;
}

interface KeyRingDoc {
  id: string;
  keys: SigningKey[];
  _etag?: string;
}

export interface KeyRingOptions {
  rotationDays: number;
  maxTokenLifetimeMs: number;
  cacheMs: number;
}

const DOC_ID = 'access-token-keys';
const ALG = 'ES256';

export class TokenKeyRing {
  #doc?: { value: KeyRingDoc; loadedAt: number };
  readonly #imported = new Map<string, Promise<CryptoKey>>();

  constructor(
    private readonly control: ControlStore,
    private readonly clock: Clock,
    private readonly options: KeyRingOptions,
  ) {}

  /**
   * How long a retired key keeps verifying: the longest token lifetime, plus the time another
   * instance may go on signing with it from its cached key ring, plus the clock skew a token's `iat`
   * may have. So a rotation cuts no token short, whichever instance signed it.
   */
  #keptAfterRetirementMs(): number {
    return this.options.maxTokenLifetimeMs + this.options.cacheMs + ACCESS_TOKEN_CLOCK_SKEW_SECONDS * 1000;
  }

  /** The current key, rotating first if it is older than the rotation period. */
  async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    let doc = await this.#load(false);
    let current = doc.keys.find((k) => !k.retiredAt);
    const ageMs = current ? this.clock.now().getTime() - Date.parse(current.createdAt) : Infinity;
    if (!current || ageMs > this.options.rotationDays * 86_400_000) {
      doc = await this.#rotate(current?.kid);
      current = doc.keys.find((k) => !k.retiredAt)!;
    }
    return { kid: current.kid, key: await this.#import(current, 'private') };
  }

  /** The key for a token's `kid`, if it may still verify tokens. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    let key = this.#usable(await this.#load(false), kid);
    if (!key) key = this.#usable(await this.#load(true), kid);
    return key ? this.#import(key, 'public') : undefined;
  }

  /** Rotates now (management API); returns the new key id. */
  async rotate(): Promise<string> {
    const current = (await this.#load(true)).keys.find((k) => !k.retiredAt);
    const doc = await this.#rotate(current?.kid);
    return doc.keys.find((k) => !k.retiredAt)!.kid;
  }

  #usable(doc: KeyRingDoc, kid: string): SigningKey | undefined {
    const key = doc.keys.find((k) => k.kid === kid);
    if (!key) return undefined;
    if (!key.retiredAt) return key;
    return Date.parse(key.retiredAt) + this.#keptAfterRetirementMs() > this.clock.now().getTime() ? key : undefined;
  }

  async #container(): Promise<Container> {
    return this.control.container('signingKeys');
  }

  async #load(fresh: boolean): Promise<KeyRingDoc> {
    const now = Date.now();
    if (!fresh && this.#doc && now - this.#doc.loadedAt < this.options.cacheMs) return this.#doc.value;
    const { resource } = await (await this.#container()).item(DOC_ID, DOC_ID).read<KeyRingDoc>();
    const value = resource ?? { id: DOC_ID, keys: [] };
    this.#doc = { value, loadedAt: now };
    return value;
  }

  /** Retires `expectedCurrent` and adds a new key; if another instance rotated first, uses theirs. */
  async #rotate(expectedCurrent: string | undefined): Promise<KeyRingDoc> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const doc = await this.#load(true);
      const current = doc.keys.find((k) => !k.retiredAt);
      if (current && current.kid !== expectedCurrent) return doc;
      const now = this.clock.now();
      const { generateKeyPair, exportJWK } = await loadJose();
      const { privateKey } = await generateKeyPair(ALG, { extractable: true });
      const fresh: SigningKey = { kid: randomUUID(), privateJwk: await exportJWK(privateKey), createdAt: now.toISOString() };
      const keys = doc.keys
        .map((k) => (k.retiredAt ? k : { ...k, retiredAt: now.toISOString() }))
        .filter((k) => Date.parse(k.retiredAt!) + this.#keptAfterRetirementMs() > now.getTime());
      const next: KeyRingDoc = { id: DOC_ID, keys: [...keys, fresh] };
      const container = await this.#container();
      try {
        if (doc._etag) await container.item(DOC_ID, DOC_ID).replace(next, { accessCondition: { type: 'IfMatch', condition: doc._etag } });
        else await container.items.create(next);
        this.#doc = undefined;
        return this.#load(true);
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code !== 412 && code !== 409) throw error;
      }
    }
    throw new Error('Could not rotate the token signing key: the key ring kept changing');
  }

  #import(key: SigningKey, half: 'private' | 'public'): Promise<CryptoKey> {
    const cacheKey = `${key.kid}:${half}`;
    let imported = this.#imported.get(cacheKey);
    if (!imported) {
      const { d: _private, ...publicJwk } = key.privateJwk;
      imported = loadJose().then(({ importJWK }) => importJWK(half === 'private' ? key.privateJwk : publicJwk, ALG) as Promise<CryptoKey>);
      this.#imported.set(cacheKey, imported);
    }
    return imported;
  }
}
