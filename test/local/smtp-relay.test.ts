import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpRelay, type EmbeddedSmtpRelay } from '../../local/smtp-relay/embedded-relay.js';
import { loadOrCreateCertificate, type TlsMaterial } from '../../local/tls-certificate.js';

/**
 * The embedded SMTP relay on its own, driven by a plain nodemailer client: nothing gets through
 * without TLS and authentication, configured addresses fail as asked, and the HTTP API shows what
 * arrived, parsed.
 */
let tls: TlsMaterial;
let relay: EmbeddedSmtpRelay;

beforeAll(async () => {
  tls = await loadOrCreateCertificate(join(tmpdir(), `acs-residency-test-certs-${process.pid}`));
  relay = await startSmtpRelay({ tls });
});
afterAll(async () => {
  await relay?.stop();
});

const client = (options: { password?: string; ignoreTLS?: boolean; noAuth?: boolean } = {}) =>
  createTransport({
    host: 'localhost',
    port: relay.smtpPort,
    secure: false,
    ...(options.ignoreTLS ? { ignoreTLS: true } : { requireTLS: true }),
    ...(options.noAuth ? {} : { auth: { user: relay.user, pass: options.password ?? relay.password } }),
    tls: { ca: [tls.cert] },
  });
const mail = (to: string, subject = 'Hi') => ({ from: 'sender@contoso.example', to, subject, text: `Text of ${subject}`, html: `<b>${subject}</b>`, attachments: [{ filename: 'a.txt', content: 'attached' }] });
const api = (path: string, init?: RequestInit) => fetch(`${relay.httpUrl}${path}`, init);

describe('the embedded SMTP relay', () => {
  it('takes mail only over TLS and from an authenticated client', async () => {
    await expect(client({ ignoreTLS: true }).sendMail(mail('a@f.example'))).rejects.toMatchObject({ responseCode: 538 });
    await expect(client({ password: 'wrong' }).sendMail(mail('a@f.example'))).rejects.toMatchObject({ responseCode: 535 });
    await expect(client({ noAuth: true }).sendMail(mail('a@f.example'))).rejects.toMatchObject({ responseCode: 530 });
    expect(relay.server.received).toEqual([]);
    expect(relay.server.refusals).toEqual([expect.objectContaining({ stage: 'auth', secure: true, reason: 'bad credentials' })]);
    const info = await client().sendMail(mail('a@f.example'));
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(relay.server.received).toHaveLength(1);
    expect(relay.server.received[0]!.session).toMatchObject({ secure: true, user: relay.user });
  });

  it('fails configured addresses permanently, temporarily n times, or after the message; configured over HTTP', async () => {
    expect((await api('/api/failures/Perm@F.example', { method: 'PUT', body: JSON.stringify({ mode: 'permanent' }) })).status).toBe(204);
    expect((await api('/api/failures/temp@f.example', { method: 'PUT', body: JSON.stringify({ mode: 'temporary', times: 2 }) })).status).toBe(204);
    expect((await api('/api/failures/data@f.example', { method: 'PUT', body: JSON.stringify({ mode: 'permanent', stage: 'data', code: 552 }) })).status).toBe(204);
    expect((await api('/api/failures/x@f.example', { method: 'PUT', body: JSON.stringify({ mode: 'permanent', code: 451 }) })).status).toBe(400);
    await expect(client().sendMail(mail('perm@f.example'))).rejects.toMatchObject({ responseCode: 550, command: 'RCPT TO' });
    await expect(client().sendMail(mail('temp@f.example'))).rejects.toMatchObject({ responseCode: 451 });
    await expect(client().sendMail(mail('temp@f.example'))).rejects.toMatchObject({ responseCode: 451 });
    await client().sendMail(mail('temp@f.example', 'third time'));
    await expect(client().sendMail(mail('data@f.example'))).rejects.toMatchObject({ responseCode: 552, command: 'DATA' });
    const attempts = (await (await api('/api/attempts?address=temp@f.example')).json()) as { value: { code: number }[] };
    expect(attempts.value.map((a) => a.code)).toEqual([451, 451, 250]);
    const failures = (await (await api('/api/failures')).json()) as { value: { address: string; times?: number }[] };
    expect(failures.value.find((f) => f.address === 'temp@f.example')!.times).toBe(0);
    expect((await api('/api/failures/perm@f.example', { method: 'DELETE' })).status).toBe(204);
    await client().sendMail(mail('perm@f.example', 'fixed'));
  });

  it('shows what it received, parsed, over HTTP; keeps the raw message; forgets on DELETE', async () => {
    const listing = (await (await api('/api/messages?to=temp@f.example')).json()) as { value: any[]; dropped: number };
    expect(listing.value).toHaveLength(1);
    const [message] = listing.value;
    expect(message).toMatchObject({ envelope: { mailFrom: 'sender@contoso.example', rcptTo: ['temp@f.example'] }, subject: 'third time', text: 'Text of third time', html: '<b>third time</b>' });
    expect(message.attachments).toEqual([expect.objectContaining({ filename: 'a.txt', contentType: 'text/plain', size: 8, contentBase64: Buffer.from('attached').toString('base64') })]);
    const raw = await api(`/api/messages/${message.id}/raw`);
    expect(raw.headers.get('content-type')).toBe('message/rfc822');
    expect(await raw.text()).toContain('Subject: third time');
    expect((await api('/api/messages', { method: 'DELETE' })).status).toBe(204);
    expect(((await (await api('/api/messages')).json()) as { value: unknown[] }).value).toEqual([]);
    expect((await api('/api/nothing')).status).toBe(404);
  });
});
