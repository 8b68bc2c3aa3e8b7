import { describe, expect, it } from 'vitest';
import { deliveryReportEvent, recipientRefs, statusMessage } from '../../shared/email/email-events.js';
import { deliveryRecipients, emailMessageSchema } from '../../shared/email/email-message.js';
import { parseEmailSettings } from '../../shared/email/email-settings.js';
import { parseEmailWorkItem } from '../../shared/email/email-work-item.js';
import { classifySmtpError, enhancedCode } from '../../shared/email/smtp-relays.js';
import { parseSettings } from '../../shared/config/settings.js';

const BASE = { MANAGEMENT_KEY: 'k'.repeat(32), TELEMETRY_HASH_KEY: 'h'.repeat(32), COSMOS_ENDPOINT: 'https://cosmos.invalid/', STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' };
const relayEnv = (suffix: string, host: string) => ({ [`SMTP_HOST${suffix}`]: host, [`SMTP_USER${suffix}`]: 'u', [`SMTP_PASSWORD${suffix}`]: 'p' });

describe('e-mail settings', () => {
  it('defaults: 48 h operations, 14 days of suppression, retries from 60 s doubling to an hour within 24 h, no relay', () => {
    expect(parseEmailSettings({}, { enabledGeographies: ['europe'], strictResidency: false })).toEqual({
      settings: { relays: {}, operationRetentionHours: 48, suppressionDays: 14, retryBaseSeconds: 60, retryMaxSeconds: 3600, retryWindowHours: 24, statusRetryAfterSeconds: 5, rateLimitFactor: 1, relayConnections: 5 },
      problems: [],
    });
  });

  it("gives a geography its own relay, and the others the default one, unless in strict residency", () => {
    const env = { ...relayEnv('', 'relay.example'), ...relayEnv('__EUROPE', 'eu-relay.example'), SMTP_TLS__EUROPE: 'implicit' };
    const loose = parseEmailSettings(env, { enabledGeographies: ['europe', 'japan'], strictResidency: false }).settings.relays;
    expect(loose.europe).toEqual({ host: 'eu-relay.example', port: 465, tls: 'implicit', user: 'u', password: 'p', suffix: '__EUROPE' });
    expect(loose.japan).toEqual({ host: 'relay.example', port: 587, tls: 'starttls', user: 'u', password: 'p', suffix: '' });
    const strict = parseEmailSettings(env, { enabledGeographies: ['europe', 'japan'], strictResidency: true });
    expect(Object.keys(strict.settings.relays)).toEqual(['europe']);
    expect(strict.problems).toEqual([]);
  });

  it('refuses, in strict residency, two geographies naming the same relay', () => {
    const env = { ...relayEnv('__FRANCE', 'Relay.Example'), ...relayEnv('__GERMANY', 'relay.example') };
    expect(parseEmailSettings(env, { enabledGeographies: ['france', 'germany'], strictResidency: true }).problems).toEqual([
      'STRICT_RESIDENCY: SMTP_HOST__FRANCE and SMTP_HOST__GERMANY name the same relay (relay.example:587); mail of France and Germany must leave through a relay of its own geography',
    ]);
    expect(parseEmailSettings(env, { enabledGeographies: ['france', 'germany'], strictResidency: false }).problems).toEqual([]);
  });

  it('names every bad setting; TLS cannot be turned off', () => {
    const { problems } = parseEmailSettings(
      { SMTP_HOST__EUROPE: 'https://relay.example', SMTP_PORT__EUROPE: '70000', SMTP_TLS__EUROPE: 'none', SMTP_USER__EUROPE: 'only-user', EMAIL_SUPPRESSION_DAYS: '0', EMAIL_RETRY_WINDOW_HOURS: '25' },
      { enabledGeographies: ['europe'], strictResidency: false },
    );
    expect(problems.sort()).toEqual(
      [
        'EMAIL_SUPPRESSION_DAYS must be at least 1',
        'EMAIL_RETRY_WINDOW_HOURS must be at most 24',
        'SMTP_HOST__EUROPE must be a host name or IP address (no scheme, port or path)',
        'SMTP_PORT__EUROPE must be a port number',
        'SMTP_TLS__EUROPE must be starttls or implicit (TLS cannot be turned off)',
      ].sort(),
    );
    expect(parseEmailSettings({ SMTP_HOST__EUROPE: 'relay.example', SMTP_USER__EUROPE: 'only-user' }, { enabledGeographies: ['europe'], strictResidency: false }).problems).toEqual([
      'SMTP_USER__EUROPE and SMTP_PASSWORD__EUROPE go together',
    ]);
    expect(() => parseSettings({ ...BASE, SMTP_HOST: 'relay.example', SMTP_TLS: 'none' })).toThrow(/SMTP_TLS must be starttls or implicit/);
  });
});

describe('the message', () => {
  const message = (recipients: object) => emailMessageSchema.parse({ senderAddress: 'a@contoso.example', content: { subject: 's', plainText: 'p' }, recipients });

  it('delivers to each address once, in the order to, cc, bcc, whatever its case', () => {
    const recipients = deliveryRecipients(message({ to: [{ address: 'X@f.example' }, { address: 'y@f.example' }], cc: [{ address: 'x@F.example' }, { address: 'z@f.example' }], bcc: [{ address: 'Y@f.example' }, { address: 'w@f.example' }] }));
    expect(recipients).toEqual([
      { address: 'X@f.example', key: 'x@f.example', kind: 'to' },
      { address: 'y@f.example', key: 'y@f.example', kind: 'to' },
      { address: 'z@f.example', key: 'z@f.example', kind: 'cc' },
      { address: 'w@f.example', key: 'w@f.example', kind: 'bcc' },
    ]);
  });

  it.each(['From', 'bcc', 'Message-ID', 'content-type', 'X:Colon', 'Bad Name'])('refuses the custom header %s', (name) => {
    const result = emailMessageSchema.safeParse({ senderAddress: 'a@contoso.example', content: { subject: 's', plainText: 'p' }, recipients: { to: [{ address: 'b@f.example' }] }, headers: { [name]: 'v' } });
    expect(result.success).toBe(false);
  });

  it('checks base64 without backtracking (10 MB parse in well under a second)', () => {
    const big = Buffer.alloc(7_000_000, 1).toString('base64');
    const started = performance.now();
    const parsed = emailMessageSchema.safeParse({ senderAddress: 'a@contoso.example', content: { subject: 's', plainText: 'p' }, recipients: { to: [{ address: 'b@f.example' }] }, attachments: [{ name: 'a', contentType: 'application/pdf', contentInBase64: big }] });
    expect(parsed.success).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
    for (const bad of ['abc', 'ab=c', 'a===', '****']) {
      expect(emailMessageSchema.safeParse({ senderAddress: 'a@contoso.example', content: { subject: 's', plainText: 'p' }, recipients: { to: [{ address: 'b@f.example' }] }, attachments: [{ name: 'a', contentType: 'text/plain', contentInBase64: bad }] }).success).toBe(false);
    }
  });
});

describe('SMTP replies', () => {
  const error = (fields: object) => Object.assign(new Error('x'), fields);

  it('classifies them: hard bounce, refused message, deferred recipient, unusable relay', () => {
    expect(classifySmtpError(error({ responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 <a@b>: no such user' }))).toEqual({ kind: 'bounced', code: 550, enhanced: '5.1.1' });
    expect(classifySmtpError(error({ responseCode: 554, command: 'DATA', response: '554 5.7.1 spam' }))).toEqual({ kind: 'refused', code: 554, enhanced: '5.7.1' });
    expect(classifySmtpError(error({ responseCode: 553, command: 'MAIL FROM', response: '553 sender refused' }))).toEqual({ kind: 'refused', code: 553 });
    expect(classifySmtpError(error({ responseCode: 451, command: 'RCPT TO', response: '451 4.3.0 later', code: 'EENVELOPE' }))).toEqual({ kind: 'deferred', code: 451, enhanced: '4.3.0', scope: 'recipient', detail: 'EENVELOPE at RCPT TO (451)' });
    expect(classifySmtpError(error({ responseCode: 535, command: 'AUTH PLAIN', response: '535 5.7.8 bad', code: 'EAUTH' }))).toMatchObject({ kind: 'deferred', code: 535, scope: 'relay' });
    expect(classifySmtpError(error({ code: 'ECONNECTION', command: 'CONN' }))).toEqual({ kind: 'deferred', scope: 'relay', detail: 'ECONNECTION at CONN' });
    expect(enhancedCode('250 2.0.0 Ok: queued')).toBe('2.0.0');
    expect(enhancedCode('250 Ok')).toBeUndefined();
  });
});

describe('delivery reports', () => {
  const recipient = { address: 'Bob@Fabrikam.example', key: 'bob@fabrikam.example', kind: 'cc' as const, state: 'Bounced' as const, attempts: 1, code: 550, enhanced: '5.1.1', at: '2026-01-01T00:00:00.000Z' };
  const input = { resourceId: 'r', operationId: 'op', sender: 'no@contoso.example', internetMessageId: '<op@contoso.example>', recipient, recipientRef: 'cc[0]', index: 1 };

  it('has the ACS shape in full', () => {
    expect(deliveryReportEvent({ ...input, mode: 'full' })).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'Microsoft.Communication.EmailDeliveryReportReceived',
      subject: 'sender/no@contoso.example/message/op',
      time: '2026-01-01T00:00:00.000Z',
      data: {
        sender: 'no@contoso.example',
        // As the caller wrote it (a local part may be case-sensitive).
        recipient: 'Bob@Fabrikam.example',
        internetMessageId: '<op@contoso.example>',
        messageId: 'op',
        status: 'Bounced',
        deliveryStatusDetails: { statusMessage: statusMessage('Bounced', recipient) },
        deliveryAttemptTimestamp: '2026-01-01T00:00:00.000Z',
      },
    });
  });

  it('names no address when minimal, and keeps the same id', () => {
    const minimal = deliveryReportEvent({ ...input, mode: 'minimal' });
    expect(JSON.stringify(minimal)).not.toContain('@');
    expect(minimal.data).toMatchObject({ recipientRef: 'cc[0]', messageId: 'op', status: 'Bounced' });
    expect(minimal.id).toBe(deliveryReportEvent({ ...input, mode: 'full' }).id);
    expect(recipientRefs([{ kind: 'to' }, { kind: 'cc' }, { kind: 'to' }, { kind: 'bcc' }])).toEqual(['to[0]', 'cc[0]', 'to[1]', 'bcc[0]']);
  });
});

describe('work items', () => {
  it('names the malformed fields, never their values', () => {
    expect(() => parseEmailWorkItem({ v: 1, kind: 'emailOperation', geography: 'mars', resourceId: 'secret@example.com', operationId: 'x' })).toThrow('The work item is malformed: geography, resourceId, operationId.');
    expect(() => parseEmailWorkItem('not json')).toThrow('The work item is not JSON.');
  });
});
