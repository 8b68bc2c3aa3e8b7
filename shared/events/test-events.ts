import type { Resource } from '../resources/resource.js';
import { eventSource } from '../resources/resource-service.js';
import type { EventRecord } from './event-record.js';
import type { Outbox } from './outbox.js';

export const TEST_EVENT_TYPE = 'AcsResidency.TestEvent';

/** Emits test events for a resource through its geography's outbox, so subscribers can be checked end to end. */
export async function sendTestEvents(
  deps: { outbox: Outbox },
  input: { resource: Resource; count: number; label?: string },
): Promise<EventRecord[]> {
  return deps.outbox.commit({
    resourceId: input.resource.id,
    eventSource: eventSource(input.resource.id),
    payloadMode: input.resource.eventPayloads,
    ops: [],
    events: Array.from({ length: input.count }, (_, sequence) => ({
      type: TEST_EVENT_TYPE,
      subject: `resource/${input.resource.id}/test`,
      data: { resourceId: input.resource.id, sequence, label: input.label ?? null },
    })),
  });
}
