import type { EventRecord } from './event-record.js';

export interface PublishOptions {
  /** Cancels the publish: the request in flight is aborted and no further batch is sent; publish() then rejects. */
  abortSignal?: AbortSignal;
  /**
   * Called (and awaited) after each batch the topic accepted, with how many of the events, counted
   * from the first in the order given, it has accepted so far.
   */
  onAccepted?(acceptedSoFar: number): Promise<void> | void;
}

/** Where events go. The real one publishes to Event Grid; tests may use the local topic through it too. */
export interface EventPublisher {
  /**
   * Publishes events in order, in batches; throws if the topic did not accept them all or none is
   * configured (the outbox keeps the events then, and `onAccepted` said how many got through).
   */
  publish(geographyKey: string, events: EventRecord[], options?: PublishOptions): Promise<void>;
}
