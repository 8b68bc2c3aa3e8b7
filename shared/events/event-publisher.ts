import type { EventRecord } from './event-record.js';

/** Where events go. The real one publishes to Event Grid; tests may use the local topic through it too. */
export interface EventPublisher {
  /** Publishes a batch; throws if the topic did not accept it or none is configured (the outbox keeps the events then). */
  publish(geographyKey: string, events: EventRecord[]): Promise<void>;
}
