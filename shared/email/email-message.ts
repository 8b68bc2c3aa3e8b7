import * as z from 'zod';

/**
 * The body of `POST /emails:send` (ACS Email 2025-09-01, what @azure/communication-email 1.1 sends),
 * with ACS's size limits: at most 50 recipients (to, cc and bcc together) and a request of at most
 * 10 MB, attachments included. Unknown fields are ignored, as ACS ignores them; everything else that
 * is wrong is a 400 naming the field (shared/http/validation.ts).
 */
export const EMAIL_MAX_RECIPIENTS = 50;
export const EMAIL_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const EMAIL_MAX_CUSTOM_HEADERS = 50;

/** Headers the service writes itself: a custom header may not set them. */
export const RESERVED_HEADERS = new Set([
  'from', 'sender', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'date', 'message-id', 'mime-version',
  'content-type', 'content-transfer-encoding', 'content-disposition', 'content-id', 'return-path',
  'received', 'dkim-signature', 'x-ms-exchange-organization-authas',
]);

const NO_LINE_BREAKS = /^[^\r\n]*$/;
/** No control characters (line breaks included), tabs aside. */
export const noControlCharacters = (value: string) =>
  ![...value].some((ch) => {
    const code = ch.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || code === 0x7f;
  });

/** An address as ACS takes it: trimmed, ASCII, at most 320 characters. */
export const emailAddressValue = z
  .string({ error: 'must be an e-mail address' })
  .trim()
  .max(320, 'must be at most 320 characters')
  .pipe(z.email({ error: 'must be a valid e-mail address' }));

const emailAddressSchema = z.object(
  {
    address: emailAddressValue,
    displayName: z.string({ error: 'must be a string' }).max(256, 'must be at most 256 characters').refine(noControlCharacters, 'must not contain line breaks or control characters').optional(),
  },
  { error: 'must be an object with address and displayName' },
);
export type EmailAddressInput = z.infer<typeof emailAddressSchema>;

const addressList = z.array(emailAddressSchema, { error: 'must be a list of e-mail addresses' });

const recipientsSchema = z
  .object({ to: addressList.optional(), cc: addressList.optional(), bcc: addressList.optional() }, { error: 'recipients is required: an object with to, cc and/or bcc' })
  .superRefine((r, ctx) => {
    const total = (r.to?.length ?? 0) + (r.cc?.length ?? 0) + (r.bcc?.length ?? 0);
    if (total === 0) ctx.addIssue({ code: 'custom', message: 'at least one recipient (to, cc or bcc) is required', path: ['to'] });
    if (total > EMAIL_MAX_RECIPIENTS) ctx.addIssue({ code: 'custom', message: `at most ${EMAIL_MAX_RECIPIENTS} recipients (to, cc and bcc together) are allowed; this request has ${total}` });
  });

const contentSchema = z
  .object(
    {
      subject: z.string({ error: 'content.subject is required' }).min(1, 'must not be empty').max(998, 'must be at most 998 characters').regex(NO_LINE_BREAKS, 'must not contain line breaks'),
      plainText: z.string({ error: 'must be a string' }).optional(),
      html: z.string({ error: 'must be a string' }).optional(),
    },
    { error: 'content is required: an object with subject and plainText and/or html' },
  )
  .refine((c) => (c.plainText ?? '') !== '' || (c.html ?? '') !== '', { message: 'plainText or html is required', path: ['plainText'] });

/** Canonical base64 (padded); checked without a backtracking pattern, which would overflow on 10 MB. */
const isBase64 = (value: string) => value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value);

const attachmentSchema = z.object(
  {
    name: z.string({ error: 'name is required' }).min(1, 'must not be empty').max(255, 'must be at most 255 characters').refine(noControlCharacters, 'must not contain control characters'),
    contentType: z.string({ error: 'contentType is required' }).regex(/^[A-Za-z0-9][\w.+-]*\/[A-Za-z0-9][\w.+-]*$/, 'must be a MIME type such as application/pdf'),
    contentInBase64: z.string({ error: 'contentInBase64 is required' }).refine(isBase64, 'must be base64'),
    contentId: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(255, 'must be at most 255 characters').regex(/^[^\s<>"]+$/, 'must not contain spaces, quotes or angle brackets').optional(),
  },
  { error: 'must be an attachment with name, contentType and contentInBase64' },
);

const headerName = z.string().regex(/^[!-9;-~]{1,100}$/, 'header names are 1-100 printable ASCII characters without a colon');

const headersSchema = z
  .record(headerName, z.string({ error: 'header values must be strings' }).max(1000, 'header values must be at most 1000 characters').regex(NO_LINE_BREAKS, 'header values must not contain line breaks'), {
    error: 'headers must be an object of header names and string values',
  })
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > EMAIL_MAX_CUSTOM_HEADERS) ctx.addIssue({ code: 'custom', message: `at most ${EMAIL_MAX_CUSTOM_HEADERS} custom headers are allowed` });
    for (const name of names) {
      if (RESERVED_HEADERS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', message: `the ${name} header is set by the service and cannot be a custom header`, path: [name] });
    }
  });

export const emailMessageSchema = z
  .object(
    {
      headers: headersSchema.optional(),
      senderAddress: emailAddressValue,
      content: contentSchema,
      recipients: recipientsSchema,
      attachments: z.array(attachmentSchema, { error: 'attachments must be a list' }).optional(),
      replyTo: z.array(emailAddressSchema, { error: 'replyTo must be a list of e-mail addresses' }).max(EMAIL_MAX_RECIPIENTS, `at most ${EMAIL_MAX_RECIPIENTS} replyTo addresses are allowed`).optional(),
      userEngagementTrackingDisabled: z.boolean({ error: 'userEngagementTrackingDisabled must be true or false' }).optional(),
    },
    { error: 'The body must be an e-mail message object' },
  )
  .superRefine((message, ctx) => {
    const seen = new Set<string>();
    message.attachments?.forEach((attachment, index) => {
      if (attachment.contentId === undefined) return;
      if (seen.has(attachment.contentId)) ctx.addIssue({ code: 'custom', message: `contentId '${attachment.contentId}' is used twice`, path: ['attachments', index, 'contentId'] });
      seen.add(attachment.contentId);
    });
  });
export type EmailMessageInput = z.infer<typeof emailMessageSchema>;

export type RecipientKind = 'to' | 'cc' | 'bcc';

/** One address the message is delivered to. */
export interface DeliveryRecipient {
  /** The address as the caller first gave it (the envelope's RCPT TO: a local part may be case-sensitive). */
  address: string;
  /** The address in lower case: how stores and data subject requests name it. */
  key: string;
  kind: RecipientKind;
}

/** An address as stores and data subject requests name it. */
export const addressKey = (address: string): string => address.trim().toLowerCase();

/**
 * The addresses the message goes to, each once (an address given twice, say in to and in bcc,
 * receives one copy), in the order to, cc, bcc.
 */
export function deliveryRecipients(message: Pick<EmailMessageInput, 'recipients'>): DeliveryRecipient[] {
  const seen = new Set<string>();
  const recipients: DeliveryRecipient[] = [];
  for (const kind of ['to', 'cc', 'bcc'] as const) {
    for (const { address } of message.recipients[kind] ?? []) {
      const key = addressKey(address);
      if (seen.has(key)) continue;
      seen.add(key);
      recipients.push({ address: address.trim(), key, kind });
    }
  }
  return recipients;
}
