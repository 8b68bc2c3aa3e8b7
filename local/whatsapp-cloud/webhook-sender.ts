import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { CloudState, WebhookDelivery, WebhookSubscription } from './cloud-state.js';

/**
 * Posts webhook notifications as WhatsApp does: JSON, signed with the app secret
 * (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, and the older SHA-1
 * `X-Hub-Signature`), again after any answer but 200 (0.5, 1, 2, 4, 8 s; WhatsApp keeps trying for
 * days), and again on request (`redeliver`), since WhatsApp may deliver a notification more than
 * once. The verification handshake is a GET with `hub.mode`, `hub.verify_token` and
 * `hub.challenge`, which must come back as the body.
 */
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

export class WebhookSender {
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(
    private readonly state: CloudState,
    private readonly options: { appSecret: string; ca?: string; log?: (line: string) => void },
  ) {}

  /** The handshake WhatsApp makes when a callback URL is saved; true when the challenge comes back. */
  async verify(url: string, verifyToken: string): Promise<{ ok: boolean; status: number }> {
    const challenge = String(Math.floor(Math.random() * 1e9));
    const target = new URL(url);
    target.searchParams.set('hub.mode', 'subscribe');
    target.searchParams.set('hub.verify_token', verifyToken);
    target.searchParams.set('hub.challenge', challenge);
    const answer = await this.#request('GET', target, undefined, {}).catch(() => ({ status: 0, body: '' }));
    return { ok: answer.status === 200 && answer.body === challenge, status: answer.status };
  }

  /** Posts a notification for a phone number's subscription; the delivery is recorded and retried. */
  send(subscription: WebhookSubscription, value: Record<string, unknown>, about: string[]): WebhookDelivery {
    const payload = { object: 'whatsapp_business_account', entry: [{ id: subscription.businessAccountId, changes: [{ value: { messaging_product: 'whatsapp', metadata: { display_phone_number: subscription.displayPhoneNumber, phone_number_id: subscription.phoneNumberId }, ...value }, field: 'messages' }] }] };
    const delivery: WebhookDelivery = { id: randomUUID(), phoneNumberId: subscription.phoneNumberId, url: subscription.url, body: JSON.stringify(payload), about, attempts: 0, lastStatus: 0, state: 'pending', createdAt: new Date().toISOString() };
    this.state.deliveries.push(delivery);
    this.#firstPosts.set(delivery, this.#attempt(delivery, 0));
    return delivery;
  }

  /** Settles once the delivery's first post has been answered (whatever the answer; retries go on). */
  firstPost(delivery: WebhookDelivery): Promise<void> {
    return this.#firstPosts.get(delivery) ?? Promise.resolve();
  }

  readonly #firstPosts = new WeakMap<WebhookDelivery, Promise<void>>();

  /** Posts a delivered notification once more, unchanged (WhatsApp's duplicate delivery). */
  async redeliver(delivery: WebhookDelivery): Promise<number> {
    return this.#post(delivery);
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  async #attempt(delivery: WebhookDelivery, retry: number): Promise<void> {
    if (this.#stopped) return;
    const status = await this.#post(delivery);
    if (status === 200) {
      delivery.state = 'delivered';
      return;
    }
    const delay = RETRY_DELAYS_MS[retry];
    if (delay === undefined || this.#stopped) {
      delivery.state = 'failed';
      this.options.log?.(`[whatsapp-cloud] webhook delivery ${delivery.id} gave up after ${delivery.attempts} attempts (last ${status})`);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#attempt(delivery, retry + 1);
    }, delay);
    this.#timers.add(timer);
  }

  async #post(delivery: WebhookDelivery): Promise<number> {
    delivery.attempts += 1;
    const body = Buffer.from(delivery.body, 'utf8');
    const headers = {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'x-hub-signature-256': `sha256=${createHmac('sha256', this.options.appSecret).update(body).digest('hex')}`,
      'x-hub-signature': `sha1=${createHmac('sha1', this.options.appSecret).update(body).digest('hex')}`,
      'user-agent': 'facebookexternalua',
    };
    const answer = await this.#request('POST', new URL(delivery.url), body, headers).catch(() => ({ status: 0, body: '' }));
    delivery.lastStatus = answer.status;
    return answer.status;
  }

  #request(method: string, url: URL, body: Buffer | undefined, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const options = { method, headers, timeout: 20_000, ...(url.protocol === 'https:' && this.options.ca ? { ca: this.options.ca } : {}) };
      const request = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', reject);
      request.end(body);
    });
  }
}
