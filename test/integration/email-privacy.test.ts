import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { EMAIL_DELIVERY_REPORT } from '../../shared/email/email-events.js';
import { services } from '../../shared/services.js';
import { configureSender, EMAIL_TEST_ENV, EMAIL_TEST_QUEUES, finished, operationStatus, runFunction, sendRaw, simpleMessage, storedEmail, until } from '../support/email.js';
import { PrivacyClient } from '../support/privacy.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Data subject requests for e-mail addresses: a recipient who hard-bounced (a suppression entry,
 * delivery reports, delivery logs) and is named by a message still being delivered, and a person
 * whose address is a sender username. Inventory and export list it all; delete erases it, cancels
 * the pending message for everyone, and leaves nothing naming either address.
 */
let stack: TestStack;
let resource: ResourceView;
let privacy: PrivacyClient;
let noReply: string;
let pending: string;
const clock = new ManualClock(new Date());
const victim = 'victim@fabrikam.example';
const other = 'colleague@fabrikam.example';
const jane = 'jane.doe@contoso.example';
// As the requester writes them: addresses are matched without regard to case.
const subjects = { emails: ['Victim@Fabrikam.EXAMPLE', 'Jane.Doe@contoso.example'] };

beforeAll(async () => {
  stack = await startTestStack({ clock, env: { ...EMAIL_TEST_ENV, PRIVACY_WORKER_SCHEDULE: '0 0 0 1 1 *', EMAIL_DELIVERY_SCHEDULE: '0 0 0 1 1 *' }, queues: EMAIL_TEST_QUEUES });
  resource = await stack.createResource('email-dsr', 'Europe');
  privacy = new PrivacyClient(() => stack, resource, clock);
  noReply = await configureSender(stack, resource);
  await configureSender(stack, resource, { username: 'jane.doe', displayName: 'Jane Doe' });

  // The victim hard-bounces: a suppression entry, a Bounced report, two log records.
  stack.smtpRelay!.fail(victim, { mode: 'permanent' });
  const bounced = await sendRaw(stack, resource, simpleMessage(noReply, [victim], 'Welcome'), {}, clock.now());
  await finished(stack, resource, bounced.body.id, () => clock.now());
  // Jane sends to the victim and a colleague; the colleague's relay defers: the message is still being delivered.
  stack.smtpRelay!.fail(other, { mode: 'temporary' });
  const sent = await sendRaw(stack, resource, simpleMessage(jane, [other, victim], 'Minutes'), {}, clock.now());
  pending = sent.body.id;
  await until(async () => {
    const op = (await storedEmail(resource)).operations.find((o) => o.id === pending);
    return op && op.attempts === 1 && op.lease === null;
  });
});
afterAll(async () => {
  await stack?.stop();
});

type Listing = { data: Record<string, Record<string, any>[]>; counts: Record<string, { found: number; held: number }> };

describe('a data subject request for e-mail addresses', () => {
  it('inventories the suppression entry, the sender username, the pending message, the log records and the reports', async () => {
    const view = await privacy.run('inventory', subjects);
    expect(view.status).toBe('succeeded');
    const listing = (await privacy.result(view.id)) as Listing;
    expect(listing.counts).toEqual({
      emailSuppression: { found: 1, held: 0 },
      emailSender: { found: 1, held: 0 },
      emailMessage: { found: 1, held: 0 },
      // SendMail and DeliveryStatusUpdate (Bounced) of the first send; SendMail, the victim's
      // Suppressed and the colleague's Deferred of the second (which names Jane as its sender).
      operationLog: { found: 5, held: 0 },
      // The Bounced report; the victim's Suppressed report of the second send (from Jane).
      outboxEntry: { found: 2, held: 0 },
    });
    expect(listing.data.emailSuppressions).toEqual([expect.objectContaining({ kind: 'emailSuppression', reason: 'hardBounce', code: 550 })]);
    expect(listing.data.emailSenders).toEqual([expect.objectContaining({ kind: 'emailSender', domain: 'contoso.example' })]);
    expect(listing.data.emailMessages).toEqual([{ kind: 'emailMessage', id: pending, status: 'Running', role: 'sender' }]);
  });

  it('exports them, without the message content', async () => {
    const view = await privacy.run('export', subjects);
    const bundle = (await privacy.result(view.id)) as Listing & { data: Record<string, any[]> };
    expect(bundle.data.emailSuppressions).toEqual([{ address: victim, reason: 'hardBounce', code: 550, bouncedAt: expect.any(String), expiresAt: expect.any(String) }]);
    expect(bundle.data.emailSenders).toEqual([{ mailFrom: 'jane.doe@contoso.example', displayName: 'Jane Doe', createdAt: expect.any(String) }]);
    expect(bundle.data.emailMessages).toEqual([{ operationId: pending, status: 'Running', createdAt: expect.any(String), role: 'sender' }]);
    expect(bundle.data.operationLogs).toHaveLength(5);
    expect(JSON.stringify(bundle)).not.toContain('Minutes');
  });

  it('deletes them: the entry, the sender username, the logs and reports, and cancels the pending message for everyone', async () => {
    const view = await privacy.run('delete', subjects);
    expect(view.status).toBe('succeeded');
    expect(view.counts).toMatchObject({
      emailSuppression: { found: 1, held: 0, deleted: 1 },
      emailSender: { found: 1, held: 0, deleted: 1 },
      emailMessage: { found: 1, held: 0, deleted: 1 },
      operationLog: { found: 5, held: 0, deleted: 5 },
      outboxEntry: { found: 2, held: 0, deleted: 2 },
    });
    const stored = await storedEmail(resource);
    expect(stored.suppressions).toEqual([]);
    expect(stored.contentBlobs).toEqual([]);
    expect(JSON.stringify(stored.operations)).not.toMatch(/victim|jane|colleague/);
    expect((await operationStatus(stack, resource, pending, clock.now())).body).toEqual({
      id: pending,
      status: 'Canceled',
      error: { code: 'Canceled', message: 'The message was canceled by a data subject request before it was delivered.' },
    });

    // The canceled message is not retried: the colleague never receives it.
    stack.smtpRelay!.server.failures.delete(other);
    const start = clock.now();
    try {
      clock.advance(10 * 60_000);
      await runFunction(stack, 'emailDeliveryScheduler');
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      clock.set(start);
    }
    expect(stack.smtpRelay!.server.received.filter((m) => m.envelope.rcptTo.includes(other))).toEqual([]);
    // Jane's address is no longer a sender; the victim is no longer suppressed.
    expect((await sendRaw(stack, resource, simpleMessage(jane, [other]), {}, clock.now())).body.error.code).toBe('InvalidSenderUserName');
    stack.smtpRelay!.server.failures.delete(victim);
    const again = await sendRaw(stack, resource, simpleMessage(noReply, [victim], 'Again'), {}, clock.now());
    await finished(stack, resource, again.body.id, () => clock.now());
    const reports = stack.topic!.received().filter((r) => r.event.type === EMAIL_DELIVERY_REPORT && (r.event.data as any).messageId === again.body.id);
    expect(reports.map((r) => (r.event.data as any).status)).toEqual(['Delivered']);
  });

  it("finds nothing more about Jane's address than the refused send after the erasure wrote", async () => {
    const view = await privacy.run('inventory', { emails: [jane] });
    const listing = (await privacy.result(view.id)) as Listing;
    // The send from jane.doe@ refused above (InvalidSenderUserName) is logged like any operation.
    expect(listing.counts).toEqual({ operationLog: { found: 1, held: 0 } });
    const europe = services().stores.forResource({ id: resource.id, geographyKey: 'europe' });
    const logs = await europe.container('operationLogs');
    const { resources: records } = await logs.items.query<Record<string, any>>({ query: 'SELECT * FROM c WHERE ARRAY_CONTAINS(c.subjects, @s)', parameters: [{ name: '@s', value: jane }] }).fetchAll();
    expect(records.map((r) => [r.operation, r.status])).toEqual([['SendMail', 400]]);
    const outbox = await europe.container('outbox');
    const { resources } = await outbox.items.query({ query: 'SELECT c.id FROM c WHERE ARRAY_CONTAINS(c.subjects, @s)', parameters: [{ name: '@s', value: jane }] }).fetchAll();
    expect(resources).toEqual([]);
  });
});
