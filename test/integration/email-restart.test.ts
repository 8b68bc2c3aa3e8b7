import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { EMAIL_DELIVERY_REPORT } from '../../shared/email/email-events.js';
import { emailMessageSchema } from '../../shared/email/email-message.js';
import type { EmailOperationRecord } from '../../shared/email/email-operation.js';
import { EMAIL_LEASE_MS } from '../../shared/email/email-delivery.js';
import { stableId } from '../../shared/events/event-record.js';
import { configureServices, services } from '../../shared/services.js';
import { configureSender, EMAIL_TEST_ENV, sendRaw, simpleMessage, storedEmail, until } from '../support/email.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Delivery survives a restart and sends exactly once per recipient: the app dies half-way through
 * an operation (after the first recipient's outcome is stored, before anything else), the host is
 * stopped and started again with fresh services (a new process: a new lease owner, nothing in
 * memory), and the scheduler resumes the operation once the dead worker's lease has run out.
 */
let stack: TestStack;
let resource: ResourceView;
let sender: string;
const clock = new ManualClock(new Date());
const recipients = ['first@fabrikam.example', 'second@fabrikam.example', 'third@fabrikam.example'];

beforeAll(async () => {
  stack = await startTestStack({
    clock,
    env: { ...EMAIL_TEST_ENV, EMAIL_DELIVERY_SCHEDULE: '0 0 0 1 1 *' },
    // A failed work item comes back only after a minute (real time), long after this test is done with it.
    queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:01:00' },
  });
  resource = await stack.createResource('email-restart', 'Europe');
  sender = await configureSender(stack, resource);
});
afterAll(async () => {
  await stack?.stop();
});

const appServices = (extra: Parameters<typeof configureServices>[0] = {}) => configureServices({ clock, env: stack.env, smtpTrustedCertificates: stack.tls.cert, ...extra });
const operation = async (id: string) => (await storedEmail(resource)).operations.find((o) => o.id === id) as EmailOperationRecord | undefined;
const copies = () => stack.smtpRelay!.server.received.map((m) => m.envelope.rcptTo[0]).sort();
const reports = (id: string) => stack.topic!.received().filter((r) => r.event.type === EMAIL_DELIVERY_REPORT && (r.event.data as { messageId?: string }).messageId === id).map((r) => r.event);
const runScheduler = async () => {
  const response = await fetch(`${stack.host.httpUrl}/admin/functions/emailDeliveryScheduler`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(response.status).toBe(202);
};

describe('a restart half-way through a send', () => {
  it('delivers the rest once the dead worker has let go, and every recipient exactly once', async () => {
    let crashes = 0;
    appServices({
      emailAfterRecipient: async (_op, index) => {
        if (index === 0) {
          crashes += 1;
          throw new Error('the process dies here');
        }
      },
    });
    const accepted = await sendRaw(stack, resource, simpleMessage(sender, recipients, 'Restart'), {}, clock.now());
    expect(accepted.status).toBe(202);
    const id = accepted.body.id as string;
    const died = await until(async () => {
      const op = await operation(id);
      return crashes === 1 && op?.recipients?.[0]?.state === 'Delivered' ? op : undefined;
    });
    // What the dead process left: the first recipient delivered and stored (not yet reported), the others pending, its lease.
    expect(died.status).toBe('Running');
    expect(died.recipients!.map((r) => [r.key, r.state, r.reported ?? false])).toEqual([
      [recipients[0], 'Delivered', false],
      [recipients[1], 'pending', false],
      [recipients[2], 'pending', false],
    ]);
    expect(died.lease).not.toBeNull();
    expect(Date.parse(died.lease!.until)).toBe(clock.now().getTime() + EMAIL_LEASE_MS);
    expect(copies()).toEqual([recipients[0]]);
    expect(reports(id)).toEqual([]);

    // The restart: the host stops, the app comes back with nothing in memory.
    await stack.host.stop();
    appServices();
    await stack.host.start();

    // While the dead worker's lease holds, the scheduler leaves the operation alone.
    const start = clock.now();
    try {
      clock.advance(EMAIL_LEASE_MS - 1);
      await runScheduler();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(copies()).toEqual([recipients[0]]);
      clock.advance(1);
      await runScheduler();
      const done = await until(async () => {
        const op = await operation(id);
        return op?.status === 'Succeeded' ? op : undefined;
      });
      expect(done.summary).toEqual({ Delivered: 3 });
    } finally {
      clock.set(start);
    }
    expect(copies()).toEqual([...recipients].sort());
    const sent = reports(id);
    expect(sent.map((e) => (e.data as { recipient: string }).recipient).sort()).toEqual([...recipients].sort());
    expect(sent.find((e) => (e.data as { recipient: string }).recipient === recipients[0])!.id).toBe(stableId('email.delivery-report', resource.id, id, '0'));
    // One delivery log record per recipient, the first written by the run that resumed.
    const logs = await services().stores.forResource({ id: resource.id, geographyKey: 'europe' }).container('operationLogs');
    const { resources } = await logs.items.query<{ subjects: string[]; deliveryStatus: string }>({ query: 'SELECT * FROM c WHERE c.correlationId = @id', parameters: [{ name: '@id', value: id }] }).fetchAll();
    expect(resources.map((r) => [r.subjects[0], r.deliveryStatus]).sort()).toEqual(recipients.map((r) => [r, 'Delivered']).sort());
    expect((await storedEmail(resource)).contentBlobs).toEqual([]);
  });

  it('delivers, once, a send whose work item was lost: the scheduler takes it up after a minute', async () => {
    stack.smtpRelay!.server.clear();
    const svc = services();
    const message = emailMessageSchema.parse(simpleMessage(sender, ['lost@fabrikam.example'], 'Lost work item'));
    // Accepted and stored, but its work item never reached the queue (no output binding here).
    const { record } = await svc.email.sender.accept(await svc.resources.get('email-restart'), { body: Buffer.from(JSON.stringify(message)), message });
    await runScheduler();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(copies()).toEqual([]);
    const start = clock.now();
    try {
      clock.advance(60_000);
      await runScheduler();
      await until(async () => (await operation(record.id))?.status === 'Succeeded');
    } finally {
      clock.set(start);
    }
    expect(copies()).toEqual(['lost@fabrikam.example']);
  });
});
