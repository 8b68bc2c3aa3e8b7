import { createHash, randomUUID } from 'node:crypto';
import { KnownEmailSendStatus, type EmailMessage } from '@azure/communication-email';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureSender, EMAIL_TEST_ENV, EMAIL_TEST_QUEUES, emailClient, operationStatus, sendRaw, simpleMessage, until } from '../support/email.js';
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
    // One SMTP transaction per recipient: 4 copies, each to exactly one envelope recipient.
    expect(mine.map((m) => m.envelope.rcptTo).sort()).toEqual([['alice@fabrikam.example'], ['bob@fabrikam.example'], ['carol@fabrikam.example'], ['dave@fabrikam.example']]);
    for (const mail of mine) {
      expect(mail.envelope.mailFrom).toBe('donotreply@contoso.example');
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
