import { randomBytes } from 'node:crypto';

/**
 * What the WhatsApp Cloud API simulator knows and received, in memory only: the messages businesses
 * sent (with the statuses it reported), media users sent, the webhook each phone number posts to,
 * every webhook delivery, the business accounts' templates, and the numbers whose messages fail.
 */
export interface SentMessage {
  /** WhatsApp's message id (`wamid.`...). */
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  /** The request body as the business sent it. */
  body: Record<string, unknown>;
  receivedAt: string;
  /** The statuses reported by webhook, in order. */
  statuses: string[];
}

export interface StoredMedia {
  id: string;
  phoneNumberId: string;
  mimeType: string;
  size: number;
  sha256: string;
  /** The bytes, or the seed they are generated from (generated-media.ts). */
  content: Buffer | { seed: number };
}

/** A download of a media that stops after `afterBytes` until released (tests: proof that a download streams). */
export interface MediaHold {
  afterBytes: number;
  /** Resolves when the download has produced `afterBytes`. */
  reached: Promise<void>;
  release(): void;
}

export interface WebhookSubscription {
  phoneNumberId: string;
  businessAccountId: string;
  displayPhoneNumber: string;
  url: string;
  verifyToken: string;
  subscribedAt: string;
}

export interface WebhookDelivery {
  id: string;
  phoneNumberId: string;
  url: string;
  /** The notification's body, exactly as posted and signed. */
  body: string;
  /** What it carries: `message:{wamid}` or `status:{wamid}:{status}`. */
  about: string[];
  attempts: number;
  /** The HTTP status of the last attempt (0: no answer). */
  lastStatus: number;
  state: 'pending' | 'delivered' | 'failed';
  createdAt: string;
}

export interface Template {
  name: string;
  language: string;
  status: string;
  category: string;
  id: string;
  components: Record<string, unknown>[];
}

export const newWamid = () => `wamid.${randomBytes(24).toString('base64url')}`;
export const newGraphId = () => String(BigInt(`0x${randomBytes(7).toString('hex')}`) + 1_000_000_000_000_000n);
export const fbtraceId = () => randomBytes(9).toString('base64url');

/** The sample templates every business account starts with (WhatsApp's own samples and a few more, enough to page). */
export function sampleTemplates(): Template[] {
  const body = (text: string) => ({ type: 'BODY', text });
  const footer = { type: 'FOOTER', text: 'This message is from an unverified business.' };
  const names: [string, Record<string, unknown>[]][] = [
    ['sample_shipping_confirmation', [body('Your package has been shipped. It will be delivered in {{1}} business days.'), footer]],
    ['sample_movie_ticket_confirmation', [{ type: 'HEADER', format: 'IMAGE' }, body('Your ticket for *{{1}}*\n*Time* - {{2}}\n*Venue* - {{3}}\n*Seats* - {{4}}'), footer]],
    ['sample_purchase_feedback', [{ type: 'HEADER', format: 'IMAGE' }, body('Thank you for purchasing {{1}}! We value your feedback and would like to learn more about your experience.'), footer, { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Take Survey', url: 'https://www.example.com/' }] }]],
    ['sample_issue_resolution', [body('Hi {{1}}, were we able to solve the issue that you were facing?'), footer, { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Yes' }, { type: 'QUICK_REPLY', text: 'No' }] }]],
    ['sample_flight_confirmation', [{ type: 'HEADER', format: 'DOCUMENT' }, body('This is your flight confirmation for {{1}}-{{2}} on {{3}}.'), footer]],
    ['sample_happy_hour_announcement', [{ type: 'HEADER', format: 'VIDEO' }, body('Happy hour is here! 🍺😀🍸\nPlease be merry and enjoy the day. 🎉\nVenue: {{1}}\nTime: {{2}}'), footer]],
    ['appointment_reminder', [body('Hello {{1}}, this is a reminder of your appointment on {{2}}.'), footer]],
    ['order_update', [{ type: 'HEADER', format: 'LOCATION' }, body('Your order {{1}} is on its way.'), footer]],
  ];
  const templates: Template[] = names.map(([name, components], index) => ({ name, language: 'en_US', status: 'APPROVED', category: 'UTILITY', id: String(9_000_000_000_000 + index), components }));
  templates.push({ name: 'promotion_draft', language: 'en_US', status: 'PENDING', category: 'MARKETING', id: '9000000000100', components: [body('Spring sale: {{1}} off.')] });
  templates.push({ name: 'old_offer', language: 'de', status: 'REJECTED', category: 'MARKETING', id: '9000000000101', components: [body('Angebot {{1}}')] });
  return templates;
}

export class CloudState {
  readonly sent: SentMessage[] = [];
  readonly media = new Map<string, StoredMedia>();
  readonly mediaHolds = new Map<string, MediaHold & { released: Promise<void>; arrive(): void }>();
  readonly webhooks = new Map<string, WebhookSubscription>();
  readonly deliveries: WebhookDelivery[] = [];
  readonly templates = new Map<string, Template[]>();
  /** Messages to these numbers (digits) are accepted, then reported `failed` (WhatsApp error 131026). */
  failingNumbers = new Set<string>();
  /** Messages to these numbers (digits) are refused at once with this WhatsApp error code. */
  refusedNumbers = new Map<string, number>();

  templatesOf(businessAccountId: string): Template[] {
    let templates = this.templates.get(businessAccountId);
    if (!templates) {
      templates = sampleTemplates();
      this.templates.set(businessAccountId, templates);
    }
    return templates;
  }

  /** Makes the next download of a media stop after `afterBytes` until `release()`. */
  holdMedia(mediaId: string, afterBytes: number): MediaHold {
    let release!: () => void;
    let arrive!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const hold = { afterBytes, reached, release, released, arrive };
    this.mediaHolds.set(mediaId, hold);
    return hold;
  }

  /** The business account a phone number belongs to, known from its webhook subscription. */
  businessAccountOf(phoneNumberId: string): string | undefined {
    return this.webhooks.get(phoneNumberId)?.businessAccountId;
  }

  forget(): void {
    this.sent.length = 0;
    this.deliveries.length = 0;
    this.media.clear();
  }
}
