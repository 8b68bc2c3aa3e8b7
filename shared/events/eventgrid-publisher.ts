import type { EventGridPublisherClient } from '@azure/eventgrid';
import { endpointsFor, type Settings } from '../config/settings.js';
import type { CredentialSource } from '../stores/azure-credential.js';
import type { StoreTls } from '../stores/store-tls.js';
import type { EventPublisher, PublishOptions } from './event-publisher.js';
import type { EventRecord } from './event-record.js';

/** Event Grid accepts at most 1 MB per publish request; keep a margin for the envelope. */
const MAX_BATCH_BYTES = 900 * 1024;
/** At most this many events per publish request, so a large fan-out goes out (and is acknowledged) in bounded steps. */
export const MAX_BATCH_EVENTS = 1_000;

/**
 * Splits events, in order, into batches under a size and a count. A failure part-way leaves the
 * batches sent so far accepted; the publisher reports each accepted batch (see PublishOptions), so
 * the outbox's retry sends only the rest, with the same event ids.
 */
export function batchesBySize(events: EventRecord[], maxBytes: number, maxCount = MAX_BATCH_EVENTS): EventRecord[][] {
  const batches: EventRecord[][] = [];
  let current: EventRecord[] = [];
  let size = 0;
  for (const event of events) {
    const bytes = Buffer.byteLength(JSON.stringify(event)) + 200;
    if (current.length > 0 && (size + bytes > maxBytes || current.length >= maxCount)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(event);
    size += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

type AnyClient = EventGridPublisherClient<'CloudEvent'> | EventGridPublisherClient<'EventGrid'>;

/**
 * Publishes with the real EventGridPublisherClient (CloudEvents 1.0 by default, the Event Grid
 * schema by setting), one lazily created client per topic. Each geography may have its own topic
 * (EVENTGRID_TOPIC_ENDPOINT__<GEO>), so event data can stay in the geography's region too.
 */
export class EventGridPublisher implements EventPublisher {
  readonly #clients = new Map<string, Promise<AnyClient>>();

  constructor(
    private readonly settings: Settings,
    private readonly credential: CredentialSource,
    private readonly tls: StoreTls,
  ) {}

  async publish(geographyKey: string, events: EventRecord[], options: PublishOptions = {}): Promise<void> {
    if (events.length === 0) return;
    const { abortSignal, onAccepted } = options;
    abortSignal?.throwIfAborted();
    const client = await this.#client(geographyKey);
    let accepted = 0;
    for (const batch of batchesBySize(events, MAX_BATCH_BYTES)) {
      // Aborted (the attempt timed out): send nothing more; the request in flight is cancelled by the client.
      abortSignal?.throwIfAborted();
      await this.#send(client, batch, abortSignal);
      accepted += batch.length;
      await onAccepted?.(accepted);
    }
  }

  async #send(client: AnyClient, events: EventRecord[], abortSignal: AbortSignal | undefined): Promise<void> {
    const options = abortSignal ? { abortSignal } : {};
    if (this.settings.eventSchema === 'CloudEvents') {
      await (client as EventGridPublisherClient<'CloudEvent'>).send(
        events.map((e) => ({
          id: e.id,
          type: e.type,
          source: e.source,
          subject: e.subject,
          time: new Date(e.time),
          data: e.data,
          datacontenttype: 'application/json',
        })),
        options,
      );
    } else {
      await (client as EventGridPublisherClient<'EventGrid'>).send(
        events.map((e) => ({
          id: e.id,
          eventType: e.type,
          subject: e.subject,
          eventTime: new Date(e.time),
          dataVersion: e.dataVersion,
          data: e.data,
        })),
        options,
      );
    }
  }

  #client(geographyKey: string): Promise<AnyClient> {
    const { eventGridEndpoint, eventGridKey } = endpointsFor(this.settings, geographyKey);
    if (!eventGridEndpoint) {
      return Promise.reject(new Error(`No Event Grid topic is configured for geography ${geographyKey}`));
    }
    const cacheKey = `${eventGridEndpoint}\u0000${this.settings.eventSchema}`;
    let client = this.#clients.get(cacheKey);
    if (!client) {
      client = import('@azure/eventgrid').then(async ({ EventGridPublisherClient, AzureKeyCredential }) => {
        const schema = this.settings.eventSchema === 'CloudEvents' ? 'CloudEvent' : 'EventGrid';
        // Without a key: a Microsoft Entra token (the EventGrid Data Sender role on the topic).
        const credential = eventGridKey ? new AzureKeyCredential(eventGridKey) : await this.credential();
        return new EventGridPublisherClient(eventGridEndpoint, schema, credential, {
          retryOptions: { maxRetries: 1, retryDelayInMs: 200 },
          // The local topic of the development host is plain HTTP on loopback; Azure topics are HTTPS.
          allowInsecureConnection: new URL(eventGridEndpoint).protocol === 'http:',
          ...(this.tls.tlsOptions ? { tlsOptions: this.tls.tlsOptions } : {}),
        }) as AnyClient;
      });
      this.#clients.set(cacheKey, client);
      client.catch(() => this.#clients.delete(cacheKey));
    }
    return client;
  }
}
