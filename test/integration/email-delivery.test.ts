import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { EMAIL_DELIVERY_REPORT } from '../../shared/email/email-events.js';
import type { EmailOperationRecord } from '../../shared/email/email-operation.js';
import { EMAIL_DELIVERY_QUEUE } from '../../shared/email/email-delivery-output.js';
import { SCHEDULED_TIMERS_OFF } from '../../shared/timer-schedules.js';
import { QueueServiceClient } from '../../local/queue-client.js';
import { configureSender, EMAIL_TEST_ENV, EMAIL_TEST_QUEUES, finished, operationStatus, runFunction, sendRaw, simpleMessage, storedEmail, until } from '../support/email.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Delivery against the embedded relay with a clock the test moves: hard bounces and the suppression
 * list (and its expiry), temporary failures retried with exponential backoff, the retry window,
 * permanent refusals of the message, delivery reports (full and minimal) and delivery log records.
 * The scheduler timer never fires by itself here (EMAIL_DELIVERY_SCHEDULE): the test runs it.
 */
let stack: TestStack;
let resource: ResourceView;
let minimal: ResourceView;
let sender: string;
let queue: QueueServiceClient;
const clock = new ManualClock(new Date());
const MINUTE = 60_000;

beforeAll(async () => {
  // No timer runs on its schedule (e-mail delivery and the chat purge run when a test asks): a purge run
  // of its own on the hour, while a test has moved the clock past an expiry, would delete what the test
  // expects to find still there and its own run to count (with every schedule at 2 s, the
  // operation-expiry test fails).
  stack = await startTestStack({ clock, env: { ...EMAIL_TEST_ENV, ...SCHEDULED_TIMERS_OFF, EMAIL_RETRY_WINDOW_HOURS: '1' }, queues: EMAIL_TEST_QUEUES });
  resource = await stack.createResource('email-delivery', 'Europe');
  minimal = await stack.createResource('email-minimal', 'Europe', { eventPayloads: 'minimal' });
  sender = await configureSender(stack, resource);
  await configureSender(stack, minimal);
  queue = new QueueServiceClient(stack.stores.queueConnectionString);
});
afterAll(async () => {
  await stack?.stop();
});

const relay = () => stack.smtpRelay!.server;
const attemptsFor = (address: string) => relay().attempts.filter((a) => a.address === address).map((a) => a.code);
const copiesFor = (address: string) => relay().received.filter((m) => m.envelope.rcptTo.includes(address));

async function send(to: string[], res = resource, subject = 'Hello'): Promise<string> {
  const response = await sendRaw(stack, res, simpleMessage(sender, to, subject), {}, clock.now());
  if (response.status !== 202) throw new Error(`send: ${response.status} ${response.text}`);
  return response.body.id as string;
}

async function operation(id: string, res = resource): Promise<EmailOperationRecord | undefined> {
  return (await storedEmail(res)).operations.find((o) => o.id === id) as EmailOperationRecord | undefined;
}

/** Waits until the operation's delivery run number `runs` has ended (its lease released, or it finished). */
async function afterRun(id: string, runs: number, res = resource): Promise<EmailOperationRecord> {
  return until(async () => {
    const op = await operation(id, res);
    return op && op.attempts >= runs && op.lease === null ? op : undefined;
  }, 30_000, `delivery run ${runs} of ${id}`);
}

/** Runs the scheduler at the test clock's time; returns how many work items it enqueued. */
async function schedule(): Promise<number> {
  await queue.createQueue(EMAIL_DELIVERY_QUEUE);
  const before = await queue.approximateCount(EMAIL_DELIVERY_QUEUE);
  await runFunction(stack, 'emailDeliveryScheduler');
  return (await queue.approximateCount(EMAIL_DELIVERY_QUEUE)) - before;
}

const reports = (id: string) => stack.topic!.received().filter((r) => r.event.type === EMAIL_DELIVERY_REPORT && (r.event.data as { messageId?: string }).messageId === id).map((r) => r.event);

describe('hard bounces and the suppression list', () => {
  it('bounces (5xx to RCPT TO), suppresses the next send without trying, and lets the address through after its 14 days', async () => {
    const address = 'gone@fabrikam.example';
    stack.smtpRelay!.fail(address, { mode: 'permanent' });
    const first = await send([address]);
    const bounced = await finished(stack, resource, first, () => clock.now());
    // ACS's operation status says the send was processed; the outcome per recipient is in the report.
    expect(bounced).toEqual({ id: first, status: 'Succeeded' });
    const [bounceReport] = reports(first);
    expect(bounceReport).toMatchObject({
      subject: `sender/DoNotReply@contoso.example/message/${first}`,
      data: { sender: 'DoNotReply@contoso.example', recipient: address, messageId: first, internetMessageId: `<${first}@contoso.example>`, status: 'Bounced' },
    });
    expect((bounceReport!.data as any).deliveryStatusDetails.statusMessage).toBe('The relay refused the recipient permanently (hard bounce); the address is suppressed. (550 5.1.1)');
    expect(attemptsFor(address)).toEqual([550]);
    const [entry] = (await storedEmail(resource)).suppressions;
    const bouncedAt = Date.parse(entry!.bouncedAt);
    expect(entry).toMatchObject({ address, reason: 'hardBounce', code: 550, enhanced: '5.1.1', operationId: first });
    expect(Date.parse(entry!.expiresAt) - bouncedAt).toBe(14 * 86_400_000);

    // The next send to it is not attempted: its report says Suppressed.
    const second = await send([address]);
    expect((await finished(stack, resource, second, () => clock.now())).status).toBe('Succeeded');
    expect(reports(second).map((e) => (e.data as any).status)).toEqual(['Suppressed']);
    expect(attemptsFor(address)).toEqual([550]);

    // One millisecond before the entry expires it still suppresses; from its expiry on it does not,
    // whether or not the purge has run yet.
    stack.smtpRelay!.server.failures.delete(address);
    const start = clock.now();
    try {
      clock.set(new Date(Date.parse(entry!.expiresAt) - 1));
      const third = await send([address]);
      await finished(stack, resource, third, () => clock.now());
      expect(reports(third).map((e) => (e.data as any).status)).toEqual(['Suppressed']);
      clock.set(new Date(entry!.expiresAt));
      const fourth = await send([address]);
      await finished(stack, resource, fourth, () => clock.now());
      expect(reports(fourth).map((e) => (e.data as any).status)).toEqual(['Delivered']);
      expect(attemptsFor(address)).toEqual([550, 250]);
      expect(copiesFor(address)).toHaveLength(1);
      // The retention run deletes the expired entry and counts it.
      await stack.runFunction('chatRetentionPurge'); // the planner, then its work items drained
      expect((await storedEmail(resource)).suppressions).toEqual([]);
      const runs = await stack.management('GET', '/api/management/purgeRuns');
      expect(runs.body.runs.chatRetention[0].deleted.emailSuppressions).toBe(1);
    } finally {
      clock.set(start);
    }
  });

  it('treats 5xx after the message (DATA) as a failure of the message, not a bounce: Failed, nothing suppressed', async () => {
    const address = 'refuses-content@fabrikam.example';
    stack.smtpRelay!.fail(address, { mode: 'permanent', stage: 'data', code: 554 });
    const id = await send([address]);
    const view = await finished(stack, resource, id, () => clock.now());
    expect(view).toEqual({ id, status: 'Failed', error: { code: 'EmailDropped', message: 'Email was dropped: the relay refused the message permanently.' } });
    expect(reports(id).map((e) => (e.data as any).status)).toEqual(['Failed']);
    expect((await storedEmail(resource)).suppressions.filter((s) => s.address === address)).toEqual([]);
  });
});

describe('temporary failures', () => {
  it('retries a 4xx after 1 minute, then after 2 more, and delivers once on the third attempt', async () => {
    const address = 'busy@fabrikam.example';
    stack.smtpRelay!.fail(address, { mode: 'temporary', times: 2 });
    const t0 = clock.now().getTime();
    const id = await send([address, 'fine@fabrikam.example']);
    let op = await afterRun(id, 1);
    expect(op.status).toBe('Running');
    expect(op.recipients!.map((r) => [r.key, r.state, r.code])).toEqual([
      [address, 'pending', 451],
      ['fine@fabrikam.example', 'Delivered', 250],
    ]);
    expect(Date.parse(op.nextAttemptAt!)).toBe(t0 + MINUTE);
    // The delivered recipient is reported at once; the other waits.
    expect(reports(id).map((e) => [(e.data as any).recipient, (e.data as any).status])).toEqual([['fine@fabrikam.example', 'Delivered']]);
    try {
      clock.set(new Date(t0 + MINUTE - 1));
      expect(await schedule()).toBe(0);
      clock.set(new Date(t0 + MINUTE));
      expect(await schedule()).toBe(1);
      op = await afterRun(id, 2);
      expect(attemptsFor(address)).toEqual([451, 451]);
      // The backoff doubles: the third attempt is due 2 minutes after the second.
      expect(Date.parse(op.nextAttemptAt!)).toBe(t0 + 3 * MINUTE);
      clock.set(new Date(t0 + 3 * MINUTE - 1));
      expect(await schedule()).toBe(0);
      clock.set(new Date(t0 + 3 * MINUTE));
      expect(await schedule()).toBe(1);
      const view = await finished(stack, resource, id, () => clock.now());
      expect(view).toEqual({ id, status: 'Succeeded' });
    } finally {
      clock.set(new Date(t0));
    }
    expect(attemptsFor(address)).toEqual([451, 451, 250]);
    expect(copiesFor(address)).toHaveLength(1);
    expect(copiesFor('fine@fabrikam.example')).toHaveLength(1);
    expect(reports(id).map((e) => [(e.data as any).recipient, (e.data as any).status])).toEqual([
      ['fine@fabrikam.example', 'Delivered'],
      [address, 'Delivered'],
    ]);
    // The finished operation keeps no address, no content, and expires 48 hours after completion.
    const done = (await operation(id))!;
    expect(done).toMatchObject({ sender: null, recipients: null, subjectKeys: null, contentBlob: null, internetMessageId: null, summary: { Delivered: 2 } });
    expect(Date.parse(done.expiresAt!) - Date.parse(done.completedAt!)).toBe(48 * 3_600_000);
    expect((await storedEmail(resource)).contentBlobs.filter((b) => b.includes(id))).toEqual([]);
  });

  it('drops a recipient still failing at the end of the retry window (EMAIL_RETRY_WINDOW_HOURS): Failed, EmailDropped', async () => {
    const address = 'never@fabrikam.example';
    stack.smtpRelay!.fail(address, { mode: 'temporary' });
    const t0 = clock.now().getTime();
    const id = await send([address]);
    let runs = 1;
    let op = await afterRun(id, runs);
    try {
      while (op.status === 'Running') {
        clock.set(new Date(op.nextAttemptAt!));
        expect(await schedule()).toBe(1);
        op = await afterRun(id, ++runs);
      }
    } finally {
      clock.set(new Date(t0));
    }
    // Attempts at 0, 1, 3, 7, 15 and 31 minutes; the next would be at 63, past the hour: dropped at 60.
    expect(attemptsFor(address)).toEqual([451, 451, 451, 451, 451, 451]);
    expect(op).toMatchObject({ status: 'Failed', error: { code: 'EmailDropped', message: 'Email was dropped after several attempts to deliver.' } });
    expect(Date.parse(op.completedAt!)).toBe(t0 + 60 * MINUTE);
    expect(reports(id).map((e) => (e.data as any).status)).toEqual(['Failed']);
    expect(copiesFor(address)).toEqual([]);
  });
});

describe('how long an operation is kept', () => {
  it('answers its status until 48 hours after completion, then 404, and the retention run deletes it', async () => {
    const id = await send(['kept@fabrikam.example']);
    await finished(stack, resource, id, () => clock.now());
    const done = (await operation(id))!;
    const start = clock.now();
    try {
      clock.set(new Date(Date.parse(done.expiresAt!) - 1));
      expect((await operationStatus(stack, resource, id, clock.now())).status).toBe(200);
      clock.set(new Date(done.expiresAt!));
      const gone = await operationStatus(stack, resource, id, clock.now());
      expect(gone.status).toBe(404);
      // Expired means gone for the API, whether or not the purge has run; then the purge deletes it.
      expect(await operation(id)).toBeDefined();
      await stack.runFunction('chatRetentionPurge'); // the planner, then its work items drained
      expect(await operation(id)).toBeUndefined();
      const runs = await stack.management('GET', '/api/management/purgeRuns');
      expect(runs.body.runs.chatRetention[0].deleted.emailOperations).toBeGreaterThanOrEqual(1);
    } finally {
      clock.set(start);
    }
  });
});

describe('delivery reports and logs', () => {
  it("keeps addresses out of a minimal resource's reports: no sender, recipient or Message-ID, the recipient's place instead", async () => {
    const id = await send(['x1@fabrikam.example', 'x2@fabrikam.example'], minimal);
    await finished(stack, minimal, id, () => clock.now());
    const events = reports(id);
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(JSON.stringify(event)).not.toContain('@');
      expect(event.subject).toBe(`message/${id}`);
      expect(Object.keys(event.data as object).sort()).toEqual(['deliveryAttemptTimestamp', 'deliveryStatusDetails', 'messageId', 'recipientRef', 'status']);
    }
    expect(events.map((e) => (e.data as any).recipientRef).sort()).toEqual(['to[0]', 'to[1]']);
  });

  it('writes one delivery log record per SMTP outcome (and one SendMail record), naming the addresses in lower case', async () => {
    const id = await send(['Logged@Fabrikam.example']);
    await finished(stack, resource, id, () => clock.now());
    const { services } = await import('../../shared/services.js');
    const { geographyByKey } = await import('../../shared/geography/geographies.js');
    const logs = await services().stores.forGeography(geographyByKey('europe')).container('operationLogs');
    const { resources } = await logs.items
      .query<Record<string, any>>({ query: 'SELECT * FROM c WHERE ARRAY_CONTAINS(c.subjects, @s)', parameters: [{ name: '@s', value: 'logged@fabrikam.example' }] })
      .fetchAll();
    const mine = resources.filter((r) => r.operation === 'SendMail' || r.correlationId === id);
    expect(mine.map((r) => [r.operation, r.status, r.deliveryStatus ?? null]).sort()).toEqual([
      ['DeliveryStatusUpdate', 250, 'Delivered'],
      ['SendMail', 202, null],
    ]);
    for (const record of mine) expect(record.subjects).toEqual(expect.arrayContaining(['logged@fabrikam.example', 'donotreply@contoso.example']));
  });
});
