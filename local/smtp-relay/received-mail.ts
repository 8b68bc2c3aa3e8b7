import { createHash } from 'node:crypto';
import type { AddressObject, ParsedMail } from 'mailparser';

/**
 * What the embedded relay received, as its HTTP API shows it: the SMTP envelope and session (was it
 * TLS, who authenticated), and the message parsed with mailparser: addresses, subject, headers,
 * bodies and every attachment with its bytes (base64), SHA-256, Content-ID and disposition.
 */
export interface ReceivedMail {
  id: string;
  receivedAt: string;
  /** As the client sent it. */
  envelope: { mailFrom: string; rcptTo: string[] };
  session: { secure: boolean; user?: string; tlsProtocol?: string };
  size: number;
  raw: Buffer;
}

export interface MailAddressView {
  address?: string;
  name: string;
}

export interface ReceivedMailView {
  id: string;
  receivedAt: string;
  envelope: ReceivedMail['envelope'];
  session: ReceivedMail['session'];
  size: number;
  messageId?: string;
  date?: string;
  from: MailAddressView[];
  to: MailAddressView[];
  cc: MailAddressView[];
  bcc: MailAddressView[];
  replyTo: MailAddressView[];
  subject?: string;
  /** Every header, names in lower case, values as the message has them (first occurrence). */
  headers: Record<string, string>;
  text?: string;
  html?: string;
  attachments: { filename?: string; contentType: string; contentDisposition: string; contentId?: string; related: boolean; size: number; sha256: string; contentBase64: string }[];
}

const addresses = (value: AddressObject | AddressObject[] | undefined): MailAddressView[] =>
  (Array.isArray(value) ? value : value ? [value] : []).flatMap((o) => o.value.map((a) => ({ ...(a.address ? { address: a.address } : {}), name: a.name })));

export async function viewOf(mail: ReceivedMail): Promise<ReceivedMailView> {
  const { simpleParser } = await import('mailparser');
  const parsed: ParsedMail = await simpleParser(mail.raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, keepCidLinks: true });
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) if (!(key in headers)) headers[key] = line.slice(line.indexOf(':') + 1).trim();
  return {
    id: mail.id,
    receivedAt: mail.receivedAt,
    envelope: mail.envelope,
    session: mail.session,
    size: mail.size,
    ...(parsed.messageId ? { messageId: parsed.messageId } : {}),
    ...(parsed.date ? { date: parsed.date.toISOString() } : {}),
    from: addresses(parsed.from),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    bcc: addresses(parsed.bcc),
    replyTo: addresses(parsed.replyTo),
    ...(parsed.subject !== undefined ? { subject: parsed.subject } : {}),
    headers,
    ...(parsed.text !== undefined ? { text: parsed.text } : {}),
    ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
    attachments: parsed.attachments.map((a) => ({
      ...(a.filename ? { filename: a.filename } : {}),
      contentType: a.contentType,
      contentDisposition: a.contentDisposition ?? '',
      ...(a.contentId ? { contentId: a.contentId.replace(/^<|>$/g, '') } : {}),
      related: a.related ?? false,
      size: a.size,
      sha256: createHash('sha256').update(a.content).digest('hex'),
      contentBase64: a.content.toString('base64'),
    })),
  };
}
