import { randomUUID } from 'node:crypto';
import type { EventSchemaName } from './event-schemas.js';

/**
 * Push delivery of topic events to webhook subscriptions, modelled on Event Grid:
 * - one event per request, in the schema it was published in;
 * - a validation handshake before the first delivery to a subscription (per schema, since the two
 *   schemas use different handshakes): Event Grid schema -> a SubscriptionValidationEvent answered
 *   with `{ validationResponse }`; CloudEvents -> the CloudEvents webhook abuse-protection OPTIONS
 *   request answered with `WebHook-Allowed-Origin`;
 * - a 2xx answer is a delivery, anything else (or a network error/timeout, or a failed handshake) is
 *   a failed attempt, retried on the schedule; when the schedule is exhausted the event is dead-lettered.
 * All timers are unref()ed so pending retries never keep a process alive; dispose() cancels them.
 */

export interface WebhookSubscription {
  name: string;
  endpoint: string;
  /** optional filter */
  includedEventTypes?: string[];
}

export interface DeadLetteredEvent {
  subscription: string;
  event: Record<string, unknown>;
  attempts: number;
  lastError: string;
}

export interface WebhookDelivererOptions {
  /** value of `topic` in Event Grid schema validation events */
  topic: string;
  /** delays before retry 1, 2, ...; after the last one the event is dead-lettered */
  retryDelaysMs: readonly number[];
  /**
   * `data.validationUrl` of Event Grid schema validation events. Informational only: manual
   * validation is not emulated, the webhook must answer the handshake with { validationResponse }.
   */
  validationUrl: (validationCode: string) => string;
  /** per-request timeout (Event Grid waits 30 s for a webhook) */
  requestTimeoutMs?: number;
  log: (line: string) => void;
}

interface DeliveryJob {
  subscription: WebhookSubscription;
  schema: EventSchemaName;
  event: Record<string, unknown>;
  /** 0-based attempt number, sent as `aeg-delivery-count` */
  attempt: number;
}

export const VALIDATION_ORIGIN = 'eventgrid.azure.net';
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

async function bodySnippet(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

export class WebhookDeliverer {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly validated = new Set<string>();
  private readonly validating = new Map<string, Promise<void>>();
  private readonly dead: DeadLetteredEvent[] = [];
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private pending = 0;
  private disposed = false;

  constructor(private readonly options: WebhookDelivererOptions) {}

  /** Queues delivery of one event to one subscription; returns at once. */
  enqueue(subscription: WebhookSubscription, schema: EventSchemaName, event: Record<string, unknown>): void {
    if (this.disposed) return;
    this.pending++;
    void this.run({ subscription, schema, event, attempt: 0 });
  }

  deadLettered(): DeadLetteredEvent[] {
    return structuredClone(this.dead);
  }

  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels retry timers and in-flight requests; pending deliveries are dropped, idle() resolves. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.abort.abort();
    this.pending = 0;
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.pending !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private finish(): void {
    if (this.disposed) return;
    this.pending--;
    this.settleIdle();
  }

  private async run(job: DeliveryJob): Promise<void> {
    const { subscription, attempt } = job;
    try {
      await this.ensureValidated(job);
      await this.post(job);
      if (this.disposed) return;
      this.options.log(`[eventgrid] delivered ${String(job.event['id'])} to ${subscription.name} (attempt ${attempt + 1})`);
      this.finish();
    } catch (err) {
      if (this.disposed) return;
      const lastError = errorMessage(err);
      const delay = this.options.retryDelaysMs[attempt];
      if (delay === undefined) {
        this.dead.push({ subscription: subscription.name, event: job.event, attempts: attempt + 1, lastError });
        this.options.log(
          `[eventgrid] dead-lettered ${String(job.event['id'])} for ${subscription.name} after ${attempt + 1} attempt(s): ${lastError}`,
        );
        this.finish();
        return;
      }
      this.options.log(
        `[eventgrid] delivery of ${String(job.event['id'])} to ${subscription.name} failed (attempt ${attempt + 1}): ${lastError}; retrying in ${delay} ms`,
      );
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.run({ ...job, attempt: attempt + 1 });
      }, delay);
      timer.unref();
      this.timers.add(timer);
    }
  }

  private signal(): AbortSignal {
    return AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)]);
  }

  /** Runs the handshake once per subscription and schema; concurrent deliveries share one attempt. */
  private async ensureValidated(job: DeliveryJob): Promise<void> {
    const key = `${job.subscription.name}\u0000${job.schema}`;
    if (this.validated.has(key)) return;
    let inFlight = this.validating.get(key);
    if (!inFlight) {
      inFlight = (job.schema === 'EventGrid' ? this.validateEventGrid(job) : this.validateCloudEvents(job)).then(
        () => {
          this.validated.add(key);
          this.validating.delete(key);
        },
        (err: unknown) => {
          this.validating.delete(key);
          throw err;
        },
      );
      this.validating.set(key, inFlight);
    }
    await inFlight;
  }

  private async validateEventGrid(job: DeliveryJob): Promise<void> {
    const validationCode = randomUUID();
    const event = {
      id: randomUUID(),
      topic: this.options.topic,
      subject: '',
      data: { validationCode, validationUrl: this.options.validationUrl(validationCode) },
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      eventTime: new Date().toISOString(),
      metadataVersion: '1',
      dataVersion: '2',
    };
    const res = await fetch(job.subscription.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'aeg-event-type': 'SubscriptionValidation',
        'aeg-subscription-name': job.subscription.name,
        'aeg-delivery-count': String(job.attempt),
      },
      body: JSON.stringify([event]),
      signal: this.signal(),
    });
    const text = await res.text().catch(() => '');
    if (!res.ok) throw new Error(`validation handshake failed: HTTP ${res.status}`);
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new Error('validation handshake failed: response is not JSON {"validationResponse": ...}');
    }
    const response = (answer as { validationResponse?: unknown } | null)?.validationResponse;
    if (response !== validationCode) {
      throw new Error('validation handshake failed: validationResponse does not match the validationCode');
    }
  }

  private async validateCloudEvents(job: DeliveryJob): Promise<void> {
    const res = await fetch(job.subscription.endpoint, {
      method: 'OPTIONS',
      headers: { 'WebHook-Request-Origin': VALIDATION_ORIGIN },
      signal: this.signal(),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status !== 200) throw new Error(`validation handshake (OPTIONS) failed: HTTP ${res.status}`);
    const allowed = res.headers.get('webhook-allowed-origin');
    // CloudEvents webhook spec: the origin echoed back, or '*'.
    if (allowed !== VALIDATION_ORIGIN && allowed !== '*') {
      throw new Error(`validation handshake (OPTIONS) failed: WebHook-Allowed-Origin is '${allowed ?? ''}', expected '${VALIDATION_ORIGIN}'`);
    }
  }

  private async post(job: DeliveryJob): Promise<void> {
    const cloud = job.schema === 'CloudEvents';
    const headers: Record<string, string> = {
      'content-type': cloud ? 'application/cloudevents+json; charset=utf-8' : 'application/json',
      'aeg-event-type': 'Notification',
      'aeg-delivery-count': String(job.attempt),
      'aeg-subscription-name': job.subscription.name,
    };
    if (!cloud) {
      headers['aeg-metadata-version'] = '1';
      headers['aeg-data-version'] = String(job.event['dataVersion'] ?? '');
    }
    const res = await fetch(job.subscription.endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify(cloud ? job.event : [job.event]),
      signal: this.signal(),
    });
    const snippet = await bodySnippet(res);
    if (!res.ok) throw new Error(`HTTP ${res.status}${snippet ? ` ${snippet}` : ''}`);
  }
}
