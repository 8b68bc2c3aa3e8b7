import type { StoredMessage } from './email-content-store.js';
import type { EmailAddressInput } from './email-message.js';

/**
 * The message as it goes to the relay, built once per delivery run with nodemailer's MailComposer
 * (imported on first use) and sent to each recipient in its own SMTP transaction: From is the sender
 * with its username's display name, To and Cc as the caller gave them, no Bcc header (bcc recipients
 * are only in their transaction's envelope), Reply-To, the subject, the plain-text and HTML bodies,
 * attachments (those with a `contentId` inline, referenced from the HTML as `cid:`), the custom
 * headers, and a Message-ID derived from the operation. The composer reads no file and no URL.
 */
const mailbox = (a: EmailAddressInput) => (a.displayName ? { name: a.displayName, address: a.address } : a.address);

export async function buildMime(stored: StoredMessage, options: { messageId: string; date: Date }): Promise<Buffer> {
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const { message } = stored;
  const composer = new MailComposer({
    from: { name: stored.senderDisplayName, address: message.senderAddress },
    ...(message.recipients.to?.length ? { to: message.recipients.to.map(mailbox) } : {}),
    ...(message.recipients.cc?.length ? { cc: message.recipients.cc.map(mailbox) } : {}),
    ...(message.replyTo?.length ? { replyTo: message.replyTo.map(mailbox) } : {}),
    subject: message.content.subject,
    ...(message.content.plainText ? { text: message.content.plainText } : {}),
    ...(message.content.html ? { html: message.content.html } : {}),
    attachments: (message.attachments ?? []).map((a) => ({
      filename: a.name,
      contentType: a.contentType,
      content: Buffer.from(a.contentInBase64, 'base64'),
      ...(a.contentId ? { cid: a.contentId, contentDisposition: 'inline' } : {}),
    })),
    headers: { ...message.headers },
    messageId: options.messageId,
    date: options.date,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}
