import { createHash, randomUUID } from 'node:crypto';
import { KnownEmailSendStatus, type EmailMessage } from '@azure/communication-email';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { configureSender, EMAIL_TEST_ENV, EMAIL_TEST_QUEUES, emailClient, operationStatus, sendRaw, simpleMessage, storedEmail, until } from '../support/email.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * The official @azure/communication-email 1.1 EmailClient against the service: beginSend polled to
 * the end, and the message exactly as the embedded SMTP relay received it (over TLS, authenticated),
 * parsed with mailparser; the sender checks and ACS's limits as the client sees them.
 */
let stack: TestStack;
let resource: ResourceView;
let sender: string;

beforeAll(async () => {
  stack = await startTestStack({ env: EMAIL_TEST_ENV, queues: EMAIL_TEST_QUEUES });
  resource = await stack.createResource('email-sdk', 'Europe');
  sender = await configureSender(stack, resource, { domain: 'contoso.example', username: 'DoNotReply', displayName: 'Contoso Support' });
});
afterAll(async () => {
  await stack?.stop();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const pdf = Buffer.from('%PDF-1.4\n' + 'x'.repeat(3000) + '\n%%EOF\n', 'latin1');
const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array.from({ length: 700 }, (_, i) => (i * 37) % 256)]);

describe('EmailClient.beginSend with every field', () => {
  it('is polled to Succeeded, and each recipient gets one copy, as sent, over TLS with authentication', async () => {
    const message: EmailMessage = {
      senderAddress: sender,
      content: {
        subject: 'Your order 42 – shipped ✓',
        plainText: 'Plain text body with ünïcode.',
        html: '<html><body><h1>Shipped</h1><img src="cid:logo-1"></body></html>',
      },
      recipients: {
        to: [{ address: 'Alice@Fabrikam.example', displayName: 'Alice Example' }, { address: 'bob@fabrikam.example' }],
        cc: [{ address: 'carol@fabrikam.example', displayName: 'Carol' }],
        bcc: [{ address: 'dave@fabrikam.example', displayName: 'Dave' }],
      },
      replyTo: [{ address: 'support@contoso.example', displayName: 'Contoso Support Desk' }],
      attachments: [
        { name: 'invoice.pdf', contentType: 'application/pdf', contentInBase64: pdf.toString('base64') },
        { name: 'logo.png', contentType: 'image/png', contentInBase64: png.toString('base64'), contentId: 'logo-1' },
      ],
      headers: { 'X-Order-Id': '42', 'x-priority': '1' },
      disableUserEngagementTracking: true,
    };
    const poller = await emailClient(stack, resource).beginSend(message, { updateIntervalInMs: 200 });
    const result = await poller.pollUntilDone();
    expect(result.status).toBe(KnownEmailSendStatus.Succeeded);
    expect(result.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.error).toBeUndefined();

    const received = await stack.smtpRelay!.messages();
    const mine = received.filter((m) => m.messageId === `<${result.id}@contoso.example>`);
    // One SMTP transaction per recipient: 4 copies, each to exactly one envelope recipient, its local
    // part as written (it may be case-sensitive; nodemailer writes domains in lower case).
    expect(mine.map((m) => m.envelope.rcptTo).sort()).toEqual([['Alice@fabrikam.example'], ['bob@fabrikam.example'], ['carol@fabrikam.example'], ['dave@fabrikam.example']]);
    for (const mail of mine) {
      expect(mail.envelope.mailFrom).toBe('DoNotReply@contoso.example');
      expect(mail.session.secure).toBe(true);
      expect(mail.session.user).toBe(stack.smtpRelay!.user);
      expect(mail.from).toEqual([{ address: 'DoNotReply@contoso.example', name: 'Contoso Support' }]);
      // The local part as given; nodemailer writes domains in lower case (they are case-insensitive).
      expect(mail.to).toEqual([
        { address: 'Alice@fabrikam.example', name: 'Alice Example' },
        { address: 'bob@fabrikam.example', name: '' },
      ]);
      expect(mail.cc).toEqual([{ address: 'carol@fabrikam.example', name: 'Carol' }]);
      // A bcc recipient is only in its own envelope, never in a header.
      expect(mail.bcc).toEqual([]);
      expect(Object.keys(mail.headers)).not.toContain('bcc');
      expect(JSON.stringify(mail.headers)).not.toContain('dave@');
      expect(mail.replyTo).toEqual([{ address: 'support@contoso.example', name: 'Contoso Support Desk' }]);
      expect(mail.subject).toBe('Your order 42 – shipped ✓');
      expect(mail.text?.trim()).toBe('Plain text body with ünïcode.');
      expect(mail.html).toBe('<html><body><h1>Shipped</h1><img src="cid:logo-1"></body></html>');
      expect(mail.headers['x-order-id']).toBe('42');
      expect(mail.headers['x-priority']).toBe('1');
      // The inline image sits beside the HTML (multipart/related), the PDF is attached; both byte for byte.
      const attachments = [...mail.attachments].sort((a, b) => a.filename!.localeCompare(b.filename!));
      expect(attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, disposition: a.contentDisposition, sha256: a.sha256, size: a.size, contentId: a.contentId, related: a.related }))).toEqual([
        { filename: 'invoice.pdf', contentType: 'application/pdf', disposition: 'attachment', sha256: sha256(pdf), size: pdf.length, contentId: undefined, related: false },
        { filename: 'logo.png', contentType: 'image/png', disposition: 'inline', sha256: sha256(png), size: png.length, contentId: 'logo-1', related: true },
      ]);
      expect(Buffer.from(attachments[0]!.contentBase64, 'base64').equals(pdf)).toBe(true);
      expect(Buffer.from(attachments[1]!.contentBase64, 'base64').equals(png)).toBe(true);
    }
  });
});

/** The SDK's error for a refused request: its status, ACS error code and message. */
async function refusal(send: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await send;
  } catch (error) {
    const { statusCode, code, message } = error as { statusCode?: number; code?: string; message: string };
    return { statusCode, code, message };
  }
  throw new Error('the send was accepted');
}

describe('senders, as ACS checks them', () => {
  it('refuses a domain that is not linked (unknown, or not verified) with 404 DomainNotLinked, and stores nothing', async () => {
    const before = await storedEmail(resource);
    const client = emailClient(stack, resource);
    const unknown = await refusal(client.beginSend(simpleMessage('DoNotReply@unlinked.example', ['x@fabrikam.example'])));
    expect(unknown).toMatchObject({ statusCode: 404, code: 'DomainNotLinked', message: 'The specified sender domain has not been linked.' });
    // A domain whose SPF is not verified yet is not linked either.
    const base = `/api/management/resources/${resource.name}/emailDomains/pending.example`;
    expect((await stack.management('PUT', base, { verificationStates: { Domain: 'Verified', SPF: 'VerificationInProgress', DKIM: 'Verified', DKIM2: 'Verified' } })).status).toBe(201);
    expect((await stack.management('PUT', `${base}/senderUsernames/DoNotReply`, {})).status).toBe(201);
    const unverified = await refusal(client.beginSend(simpleMessage('DoNotReply@pending.example', ['x@fabrikam.example'])));
    expect(unverified).toMatchObject({ statusCode: 404, code: 'DomainNotLinked' });
    expect((await storedEmail(resource)).operations.length).toBe(before.operations.length);
    // No new content blob (earlier sends may finish and delete theirs meanwhile).
    expect((await storedEmail(resource)).contentBlobs.filter((b) => !before.contentBlobs.includes(b))).toEqual([]);
  });

  it('refuses a username not configured on a linked domain with 400 InvalidSenderUserName, in ACS words', async () => {
    const raw = await sendRaw(stack, resource, simpleMessage('marketing@contoso.example', ['x@fabrikam.example']));
    expect(raw.status).toBe(400);
    expect(raw.headers.get('x-ms-error-code')).toBe('InvalidSenderUserName');
    expect(raw.body.error).toEqual({
      code: 'InvalidSenderUserName',
      message: "Invalid email sender username: 'marketing'. Please use a username from the list of valid usernames configured by your admin.",
      target: 'senderAddress',
    });
    // The username is matched without regard to case, as ACS matches it.
    const poller = await emailClient(stack, resource).beginSend(simpleMessage('donotreply@CONTOSO.example', ['case@fabrikam.example']), { updateIntervalInMs: 200 });
    expect((await poller.pollUntilDone()).status).toBe('Succeeded');
  });
});

describe("ACS's limits and the request's fields", () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ address: `r${i}@limits.example` }));

  it('takes 50 recipients (to, cc and bcc together) and refuses 51 with a 400 naming recipients', async () => {
    const over = await refusal(
      emailClient(stack, resource).beginSend({ senderAddress: sender, content: { subject: 's', plainText: 'p' }, recipients: { to: many(20), cc: many(20).map((r) => ({ address: `c${r.address}` })), bcc: many(11).map((r) => ({ address: `b${r.address}` })) } }),
    );
    expect(over.statusCode).toBe(400);
    expect(over.code).toBe('ValidationError');
    expect(over.message).toContain('at most 50 recipients (to, cc and bcc together) are allowed; this request has 51');
    const poller = await emailClient(stack, resource).beginSend({ senderAddress: sender, content: { subject: 'fifty', plainText: 'p' }, recipients: { to: many(25), bcc: many(25).map((r) => ({ address: `b${r.address}` })) } }, { updateIntervalInMs: 200 });
    const done = await poller.pollUntilDone();
    expect(done.status).toBe('Succeeded');
    const copies = stack.smtpRelay!.server.received.filter((m) => m.raw.includes(`<${done.id}@contoso.example>`));
    expect(copies).toHaveLength(50);
    expect(new Set(copies.map((m) => m.envelope.rcptTo[0])).size).toBe(50);
  });

  it('takes a request of exactly 10 MB and refuses one byte more with 413, storing nothing for it', async () => {
    const limit = 10 * 1024 * 1024;
    const bodyOf = (pad: number) =>
      JSON.stringify({
        senderAddress: sender,
        content: { subject: 'ten megabytes', plainText: 'x'.repeat(pad) },
        recipients: { to: [{ address: 'big@fabrikam.example' }] },
        attachments: [{ name: 'big.bin', contentType: 'application/octet-stream', contentInBase64: Buffer.alloc(7_500_000, 7).toString('base64') }],
      });
    const exact = bodyOf(limit - bodyOf(0).length);
    expect(Buffer.byteLength(exact)).toBe(limit);
    const before = await storedEmail(resource);
    const tooBig = await sendRaw(stack, resource, bodyOf(limit - bodyOf(0).length + 1));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('PayloadTooLarge');
    expect((await storedEmail(resource)).operations).toHaveLength(before.operations.length);
    const accepted = await sendRaw(stack, resource, exact);
    expect(accepted.status).toBe(202);
    const received = await until(() => stack.smtpRelay!.server.received.find((m) => m.raw.includes(`<${accepted.body.id}@contoso.example>`)), 60_000, 'the 10 MB message');
    expect(received.envelope.rcptTo).toEqual(['big@fabrikam.example']);
    expect(received.raw.includes(Buffer.alloc(7_500_000, 7).toString('base64').slice(0, 76))).toBe(true);
  });

  it.each([
    ['no subject', 'content.subject', (m: any) => delete m.content.subject],
    ['neither plainText nor html', 'content.plainText', (m: any) => delete m.content.plainText],
    ['an invalid recipient address', 'recipients.to.0.address', (m: any) => (m.recipients.to[0].address = 'not-an-address')],
    ['no recipient at all', 'recipients.to', (m: any) => (m.recipients = { to: [], cc: [] })],
    ['an invalid sender address', 'senderAddress', (m: any) => (m.senderAddress = 'nobody')],
    ['a header the service sets (Bcc)', 'headers.Bcc', (m: any) => (m.headers = { Bcc: 'spy@evil.example' })],
    ['a header value with a line break', 'headers.X-Injected', (m: any) => (m.headers = { 'X-Injected': 'a\r\nBcc: spy@evil.example' })],
    ['an attachment that is not base64', 'attachments.0.contentInBase64', (m: any) => (m.attachments = [{ name: 'a.txt', contentType: 'text/plain', contentInBase64: 'not base64!' }])],
    ['a contentId used twice', 'attachments.1.contentId', (m: any) => (m.attachments = [0, 1].map((i) => ({ name: `${i}.png`, contentType: 'image/png', contentInBase64: 'aGk=', contentId: 'same' })))],
    ['userEngagementTrackingDisabled that is not a boolean', 'userEngagementTrackingDisabled', (m: any) => (m.userEngagementTrackingDisabled = 'yes')],
] as [string, string, (m: any) => unknown][])('refuses %s with a 400 naming %s, and stores nothing', async (_what, target, change) => {
    const message: any = structuredClone(simpleMessage(sender, ['v@fabrikam.example']));
    change(message);
    const before = await storedEmail(resource);
    const response = await sendRaw(stack, resource, message);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'ValidationError', target });
    const after = await storedEmail(resource);
    expect(after.operations).toHaveLength(before.operations.length);
    expect(after.contentBlobs.filter((b) => !before.contentBlobs.includes(b))).toEqual([]);
  });

  it('answers 202 with Operation-Location (on the origin dialled, with the resource and api-version) and Retry-After', async () => {
    const response = await sendRaw(stack, resource, simpleMessage(sender, ['loc@fabrikam.example']));
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'NotStarted' });
    expect(response.headers.get('operation-location')).toBe(`${stack.httpUrl}/emails/operations/${response.body.id}?resource=email-sdk&api-version=2025-09-01`);
    expect(response.headers.get('retry-after')).toBe('1');
    const status = await until(async () => {
      const s = await operationStatus(stack, resource, response.body.id);
      return s.body.status === 'Succeeded' ? s : undefined;
    });
    expect(status.body).toEqual({ id: response.body.id, status: 'Succeeded' });
    // A finished operation is not polled again: no Retry-After.
    expect(status.headers.get('retry-after')).toBeNull();
  });

  it('answers 404 for an unknown operation and 400 without api-version', async () => {
    const unknown = await operationStatus(stack, resource, randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-ms-error-code')).toBe('NotFound');
    const noVersion = await stack.signed({ method: 'GET', endpoint: resource.endpoint, path: `/emails/operations/${randomUUID()}`, key: resource.primaryKey });
    expect(noVersion.status).toBe(400);
    expect(noVersion.body.error.code).toBe('InvalidApiVersion');
  });
});

describe('repeatability (Operation-Id)', () => {
  it('sends once for a repeated Operation-Id with the same request, and refuses it with another (409)', async () => {
    const operationId = randomUUID();
    const message = simpleMessage(sender, ['once@fabrikam.example'], 'Only once');
    const client = emailClient(stack, resource);
    const first = await (await client.beginSend(message, { operationId, updateIntervalInMs: 200 })).pollUntilDone();
    const again = await (await client.beginSend(message, { operationId, updateIntervalInMs: 200 })).pollUntilDone();
    expect([first.id, again.id]).toEqual([operationId, operationId]);
    expect([first.status, again.status]).toEqual(['Succeeded', 'Succeeded']);
    expect(stack.smtpRelay!.server.received.filter((m) => m.envelope.rcptTo.includes('once@fabrikam.example'))).toHaveLength(1);
    const other = await refusal(client.beginSend(simpleMessage(sender, ['once@fabrikam.example'], 'Something else'), { operationId }));
    expect(other).toMatchObject({ statusCode: 409, code: 'Conflict' });
    const malformed = await sendRaw(stack, resource, message, { 'operation-id': 'not-a-uuid' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.target).toBe('Operation-Id');
  });
});

describe("ACS's e-mail rate limits (EMAIL_RATE_LIMIT_FACTOR)", () => {
  let limited: TestStack;
  let res: ResourceView;
  let from: string;
  const clock = new ManualClock(new Date());

  beforeAll(async () => {
    // A tenth of ACS's figures: 3 sends a minute and 10 an hour; 6 status reads a minute and 20 an hour.
    limited = await startTestStack({ clock, env: { ...EMAIL_TEST_ENV, EMAIL_RATE_LIMIT_FACTOR: '0.1' }, queues: EMAIL_TEST_QUEUES });
    res = await limited.createResource('email-limits', 'Europe');
    from = await configureSender(limited, res);
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('answers 429 TooManyRequests with Retry-After past the per-minute and per-hour send limits, storing nothing', async () => {
    const send = () => sendRaw(limited, res, simpleMessage(from, ['rl@fabrikam.example']), {}, clock.now());
    const statuses: number[] = [];
    for (let minute = 0; minute < 4; minute += 1) {
      for (let i = 0; i < 4; i += 1) statuses.push((await send()).status);
      clock.advance(61_000);
    }
    // 3 a minute, until the hour's 10 are used up in the fourth minute.
    expect(statuses).toEqual([202, 202, 202, 429, 202, 202, 202, 429, 202, 202, 202, 429, 202, 429, 429, 429]);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(refused.body.error).toEqual({ code: 'TooManyRequests', message: 'Rate limit exceeded.' });
    expect(refused.headers.get('x-ms-error-code')).toBe('TooManyRequests');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(60);
    expect((await storedEmail(res)).operations).toHaveLength(10);
  });

  it('answers 429 past 6 status reads a minute', async () => {
    const [op] = (await storedEmail(res)).operations;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await operationStatus(limited, res, op!.id, clock.now())).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
  });
});
