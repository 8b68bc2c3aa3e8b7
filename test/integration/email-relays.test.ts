import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpRelay, type EmbeddedSmtpRelay } from '../../local/smtp-relay/embedded-relay.js';
import { loadOrCreateCertificate } from '../../local/tls-certificate.js';
import { configureSender, EMAIL_TEST_ENV, EMAIL_TEST_QUEUES, finished, sendRaw, simpleMessage, storedEmail, until } from '../support/email.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Each geography's mail leaves through its own relay (SMTP_*__<GEO>), over TLS, authenticated:
 * Europe through a relay with implicit TLS, Japan through the default (the stack's embedded relay,
 * STARTTLS). A relay that refuses the credentials, or that does not offer STARTTLS, gets nothing:
 * the message waits for the next attempt, and nothing is sent in clear.
 */
let stack: TestStack;
let europeRelay: EmbeddedSmtpRelay;
let franceRelay: EmbeddedSmtpRelay;
let germanyRelay: EmbeddedSmtpRelay;
const resources: Record<string, ResourceView> = {};
const senders: Record<string, string> = {};

beforeAll(async () => {
  // The test stack's certificate (the relays present it; the app trusts it in code only).
  const tls = await loadOrCreateCertificate(join(tmpdir(), `acs-residency-test-certs-${process.pid}`));
  europeRelay = await startSmtpRelay({ tls, implicitTls: true, user: 'europe-relay' });
  franceRelay = await startSmtpRelay({ tls, user: 'france-relay' });
  germanyRelay = await startSmtpRelay({ tls, withoutStartTls: true, user: 'germany-relay' });
  stack = await startTestStack({
    env: {
      ...EMAIL_TEST_ENV,
      ...europeRelay.settings('__EUROPE'),
      ...franceRelay.settings('__FRANCE'),
      SMTP_PASSWORD__FRANCE: 'not-the-password',
      ...germanyRelay.settings('__GERMANY'),
    },
    queues: EMAIL_TEST_QUEUES,
  });
  for (const [name, geography] of [['mail-eu', 'Europe'], ['mail-jp', 'Japan'], ['mail-fr', 'France'], ['mail-de', 'Germany']] as const) {
    resources[geography] = await stack.createResource(name, geography);
    senders[geography] = await configureSender(stack, resources[geography]!, { domain: `${name}.example` });
  }
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([europeRelay, franceRelay, germanyRelay].map((r) => r?.stop()));
});

const send = async (geography: string, to: string) => {
  const response = await sendRaw(stack, resources[geography]!, simpleMessage(senders[geography]!, [to]));
  expect(response.status).toBe(202);
  return response.body.id as string;
};

describe('a relay per geography', () => {
  it("sends a European resource's mail through the European relay (implicit TLS) and a Japanese one's through the default", async () => {
    const eu = await send('Europe', 'eu-recipient@fabrikam.example');
    const jp = await send('Japan', 'jp-recipient@fabrikam.example');
    expect((await finished(stack, resources.Europe!, eu)).status).toBe('Succeeded');
    expect((await finished(stack, resources.Japan!, jp)).status).toBe('Succeeded');
    expect(europeRelay.server.received.map((m) => m.envelope.rcptTo)).toEqual([['eu-recipient@fabrikam.example']]);
    expect(stack.smtpRelay!.server.received.map((m) => m.envelope.rcptTo)).toEqual([['jp-recipient@fabrikam.example']]);
    const [euMail] = europeRelay.server.received;
    expect(euMail!.session).toMatchObject({ secure: true, user: 'europe-relay', tlsProtocol: expect.stringMatching(/^TLSv1\.[23]$/) });
    expect(stack.smtpRelay!.server.received[0]!.session).toMatchObject({ secure: true, user: stack.smtpRelay!.user });
    expect(europeRelay.server.implicitTls).toBe(true);
    expect(stack.smtpRelay!.server.implicitTls).toBe(false);
  });

  it('defers everything when the relay refuses the credentials (given only over TLS), and delivers nothing', async () => {
    const id = await send('France', 'fr-recipient@fabrikam.example');
    const op = await until(async () => {
      const found = (await storedEmail(resources.France!)).operations.find((o) => o.id === id);
      return found && found.attempts === 1 && found.lease === null ? found : undefined;
    });
    expect(op.status).toBe('Running');
    expect(op.recipients.map((r: any) => [r.state, r.code])).toEqual([['pending', 535]]);
    expect(franceRelay.server.refusals).toEqual([expect.objectContaining({ stage: 'auth', secure: true, reason: 'bad credentials' })]);
    expect(franceRelay.server.received).toEqual([]);
    expect(franceRelay.server.attempts).toEqual([]);
  });

  it('sends nothing, not even the credentials, to a relay that does not offer STARTTLS', async () => {
    const id = await send('Germany', 'de-recipient@fabrikam.example');
    const op = await until(async () => {
      const found = (await storedEmail(resources.Germany!)).operations.find((o) => o.id === id);
      return found && found.attempts === 1 && found.lease === null ? found : undefined;
    });
    expect(op.status).toBe('Running');
    expect(op.recipients.map((r: any) => r.state)).toEqual(['pending']);
    await until(() => germanyRelay.server.sessions.length > 0 && germanyRelay.server.sessions.every((s) => s.closed));
    // It connected, and left without securing or authenticating the session.
    expect(germanyRelay.server.sessions.map((s) => ({ secure: s.secure, user: s.user }))).toEqual(germanyRelay.server.sessions.map(() => ({ secure: false, user: undefined })));
    expect(germanyRelay.server.refusals).toEqual([]);
    expect(germanyRelay.server.attempts).toEqual([]);
    expect(germanyRelay.server.received).toEqual([]);
  });
});
