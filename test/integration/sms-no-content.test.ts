import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buyNumbers, cosmosOf, eventsOf, eventually, importNumbers, smsClient, smscOf, tollFree } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * SMS content is ephemeral: after sends (short and long, GSM-7 and UCS-2, with delivery reports and
 * tags), carrier receipts (whose text carries the start of each message), inbound messages (to a
 * resource with full event payloads and one with minimal payloads) and opt-out keywords, once every
 * event is published, no Cosmos item of any database and no blob of any container holds any of the
 * texts, while the events did carry them (so the texts really went through).
 */
let stack: TestStack;
let full: ResourceView;
let minimal: ResourceView;
let fullNumber: string;
let minimalNumber: string;

const texts = {
  short: 'Marker-alpha: your table is ready',
  long: 'Marker-bravo ' + 'Ünicode ☕ text that needs UCS-2 and several segments. '.repeat(4),
  gsmLong: 'Marker-charlie ' + 'plain GSM text in three segments '.repeat(12),
  inbound: 'Marker-delta: running ten minutes late',
  inboundMinimal: 'Marker-echo: private reply',
  inboundLong: 'Marker-foxtrot ' + 'a long reply from a handset '.repeat(8),
};

beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe', LOCAL_SMSC_RECEIPT_DELAY_MS: '20' } });
  full = await stack.createResource('sms-content-full', 'Europe');
  minimal = await stack.createResource('sms-content-minimal', 'Europe', { eventPayloads: 'minimal' });
  await importNumbers(stack, 'Europe', [tollFree('+18005550601'), tollFree('+18005550602')]);
  const search = { countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application' } as const;
  [fullNumber] = (await buyNumbers(stack, full, search)) as [string];
  [minimalNumber] = (await buyNumbers(stack, minimal, search)) as [string];

  const sent = [
    ...(await smsClient(stack, full).send({ from: fullNumber, to: ['+447700900070', '+447700900071'], message: texts.short }, { enableDeliveryReport: true, tag: 'tag-1' })),
    ...(await smsClient(stack, full).send({ from: fullNumber, to: ['+447700900070'], message: texts.long }, { enableDeliveryReport: true })),
    ...(await smsClient(stack, minimal).send({ from: minimalNumber, to: ['+447700900072'], message: texts.gsmLong }, { enableDeliveryReport: true })),
  ];
  expect(sent.every((r) => r.successful)).toBe(true);
  smscOf(stack).inject('+447700900070', fullNumber, texts.inbound);
  smscOf(stack).inject('+447700900070', fullNumber, texts.inboundLong);
  smscOf(stack).inject('+447700900072', minimalNumber, texts.inboundMinimal);
  smscOf(stack).inject('+447700900071', fullNumber, 'STOP');
  // Every delivery report and inbound message has become an event ...
  await eventually(() => (eventsOf(stack, full.id, 'Microsoft.Communication.SMSDeliveryReportReceived').length === 3 ? true : undefined), 15_000, 'the delivery reports');
  await eventually(() => (eventsOf(stack, minimal.id, 'Microsoft.Communication.SMSDeliveryReportReceived').length === 1 ? true : undefined), 15_000, 'the minimal delivery report');
  await eventually(() => (eventsOf(stack, full.id, 'Microsoft.Communication.SMSReceived').length === 3 && eventsOf(stack, minimal.id, 'Microsoft.Communication.SMSReceived').length === 1 ? true : undefined), 15_000, 'the inbound events');
  // ... and every outbox entry is published.
  await eventually(async () => {
    const { resources } = await cosmosOf(stack).database('acs-europe').container('outbox').items.readAll<{ status: string }>().fetchAll();
    return resources.every((e) => e.status === 'published') ? true : undefined;
  }, 15_000, 'publication');
});
afterAll(async () => stack?.stop());

/** Every Cosmos item (any database, any container) and every blob (any container), as text. */
async function everything(): Promise<{ where: string; text: string }[]> {
  const found: { where: string; text: string }[] = [];
  const cosmos = cosmosOf(stack);
  for (const { id: database } of (await cosmos.databases.readAll().fetchAll()).resources) {
    for (const { id: container } of (await cosmos.database(database).containers.readAll().fetchAll()).resources) {
      const { resources } = await cosmos.database(database).container(container).items.readAll<Record<string, unknown>>().fetchAll();
      for (const item of resources) found.push({ where: `${database}/${container}`, text: JSON.stringify(item) });
    }
  }
  const blobs = BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString);
  for await (const container of blobs.listContainers()) {
    const client = blobs.getContainerClient(container.name);
    for await (const blob of client.listBlobsFlat({ includeMetadata: true, includeUncommitedBlobs: true })) {
      const content = await client.getBlobClient(blob.name).downloadToBuffer().catch(() => Buffer.alloc(0));
      found.push({ where: container.name, text: [blob.name, JSON.stringify(blob.metadata ?? {}), content.toString('utf8')].join('\n') });
    }
  }
  return found;
}

describe('no store keeps SMS text', () => {
  it('the texts went through: the full-payload events carried them, the minimal ones did not', () => {
    const carried = eventsOf(stack, full.id, 'Microsoft.Communication.SMSReceived').map((e) => e.data.message).sort();
    expect(carried).toEqual(['STOP', texts.inbound, texts.inboundLong].sort());
    expect(eventsOf(stack, minimal.id, 'Microsoft.Communication.SMSReceived').map((e) => e.data)).toEqual([expect.not.objectContaining({ message: expect.anything() })]);
    expect(smscOf(stack).messages().some((p) => p.text.startsWith('Marker-alpha'))).toBe(true);
  });

  it('no Cosmos item of any database and no blob holds any text, or the start of one the carrier echoed in its receipts', async () => {
    const stored = await everything();
    expect(stored.length).toBeGreaterThan(20);
    const markers = [...Object.values(texts).map((t) => t.slice(0, 30)), 'Marker-', 'your table', 'running ten', 'private reply', 'Ünicode', 'plain GSM text'];
    const leaks = stored.filter((s) => markers.some((m) => s.text.includes(m))).map((s) => s.where);
    expect(leaks).toEqual([]);
    // What does stay names numbers only: the opt-out and the numbers' records are there.
    expect(stored.some((s) => s.where === 'acs-europe/smsRecords' && s.text.includes('"kind":"smsOptOut"'))).toBe(true);
    expect(stored.some((s) => s.where === 'acs-europe/operationLogs' && s.text.includes('SMSMessagesReceived'))).toBe(true);
  });
});
