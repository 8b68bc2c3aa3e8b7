import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import * as z from 'zod';
import { newGraphId, newWamid, type CloudState, type StoredMedia } from './cloud-state.js';
import { generatedMediaSha256 } from './generated-media.js';
import { sendJson } from './graph-api.js';
import type { WebhookSender } from './webhook-sender.js';

/**
 * The simulator's developer API (loopback only), to act as WhatsApp's users and dashboard:
 *
 *   PUT    /api/webhooks/{phoneNumberId}   {url, verifyToken, businessAccountId, displayPhoneNumber?}: the
 *                                          handshake first (as WhatsApp does when a callback URL is saved), then 200
 *   GET    /api/webhooks                   the subscriptions
 *   POST   /api/inbound                    a user sends a message: {phoneNumberId, from, text? | media? | reaction? |
 *                                          button? | interactive? | location?, context?, deliveries?} -> 202 {messageId, mediaId?}
 *   GET    /api/messages                   what businesses sent, with the statuses reported
 *   DELETE /api/messages                   forget sent messages, media and deliveries
 *   GET    /api/deliveries                 every webhook delivery (body, attempts, last status)
 *   POST   /api/deliveries/redeliver       {ids?}: post delivered notifications once more (all when no ids)
 *   PUT    /api/failing-numbers            {numbers}: messages to them are accepted, then reported failed (131026)
 *   PUT    /api/refused-numbers            {numbers, code?}: messages to them are refused at once (default 131030)
 *   PUT    /api/templates/{businessAccountId}  {templates}: replace the account's templates; GET lists them
 */
const digits = z.string().transform((v) => v.replace(/[\s()+.-]/g, '')).pipe(z.string().regex(/^\d{7,15}$/, 'must be a phone number'));
const graphId = z.string().regex(/^\d{1,32}$/, 'must be a numeric id');

const subscriptionSchema = z.strictObject({ url: z.url(), verifyToken: z.string().min(1), businessAccountId: graphId, displayPhoneNumber: z.string().optional() });
const mediaSchema = z.strictObject({
  mimeType: z.string().min(1),
  base64: z.string().optional(),
  size: z.number().int().min(0).max(4 * 1024 ** 3).optional(),
  seed: z.number().int().optional(),
  fileName: z.string().optional(),
  caption: z.string().optional(),
});
const inboundSchema = z.strictObject({
  phoneNumberId: graphId,
  from: digits,
  profileName: z.string().optional(),
  type: z.enum(['text', 'image', 'document', 'video', 'audio', 'sticker', 'reaction', 'button', 'interactive', 'location']).optional(),
  text: z.string().optional(),
  media: mediaSchema.optional(),
  reaction: z.strictObject({ messageId: z.string(), emoji: z.string() }).optional(),
  button: z.strictObject({ text: z.string(), payload: z.string() }).optional(),
  interactive: z.strictObject({ type: z.enum(['button_reply', 'list_reply']), id: z.string(), title: z.string(), description: z.string().optional() }).optional(),
  location: z.strictObject({ latitude: z.number(), longitude: z.number(), name: z.string().optional(), address: z.string().optional() }).optional(),
  /** The WhatsApp id of the business's message this one answers. */
  context: z.strictObject({ messageId: z.string() }).optional(),
  /** How many times WhatsApp posts the notification (it may deliver more than once). */
  deliveries: z.number().int().min(1).max(5).default(1),
});
const numbersSchema = z.strictObject({ numbers: z.array(digits), code: z.number().int().optional() });
const templatesSchema = z.strictObject({
  templates: z.array(z.strictObject({ name: z.string(), language: z.string(), status: z.string().default('APPROVED'), category: z.string().default('UTILITY'), components: z.array(z.record(z.string(), z.unknown())).default([]) })),
});
const redeliverSchema = z.strictObject({ ids: z.array(z.string()).optional() });

export interface DevContext {
  state: CloudState;
  sender: WebhookSender;
}

function invalid(res: ServerResponse, error: z.ZodError): void {
  sendJson(res, 400, { error: { code: 'BadRequest', message: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') } });
}

/** Serves a developer API request; false when the path is not one of them. */
export async function handleDev(method: string, path: string, body: () => Promise<unknown>, res: ServerResponse, ctx: DevContext): Promise<boolean> {
  const { state } = ctx;
  const webhook = /^\/api\/webhooks\/(\d{1,32})$/.exec(path);
  const templates = /^\/api\/templates\/(\d{1,32})$/.exec(path);
  if (method === 'PUT' && webhook) {
    const input = subscriptionSchema.safeParse(await body());
    if (!input.success) return (invalid(res, input.error), true);
    const check = await ctx.sender.verify(input.data.url, input.data.verifyToken);
    if (!check.ok) return (sendJson(res, 502, { error: { code: 'VerificationFailed', message: `The callback URL did not pass the verification handshake (it answered ${check.status}).` } }), true);
    const phoneNumberId = webhook[1]!;
    const subscription = { phoneNumberId, businessAccountId: input.data.businessAccountId, displayPhoneNumber: input.data.displayPhoneNumber ?? '15550000000', url: input.data.url, verifyToken: input.data.verifyToken, subscribedAt: new Date().toISOString() };
    state.webhooks.set(phoneNumberId, subscription);
    return (sendJson(res, 200, subscription), true);
  }
  if (method === 'GET' && path === '/api/webhooks') return (sendJson(res, 200, { value: [...state.webhooks.values()] }), true);
  if (method === 'POST' && path === '/api/inbound') {
    const input = inboundSchema.safeParse(await body());
    if (!input.success) return (invalid(res, input.error), true);
    const subscription = state.webhooks.get(input.data.phoneNumberId);
    if (!subscription) return (sendJson(res, 409, { error: { code: 'NoWebhook', message: `Phone number ${input.data.phoneNumberId} has no webhook subscription: PUT /api/webhooks/${input.data.phoneNumberId} first.` } }), true);
    const { message, mediaId } = inboundMessage(input.data, state);
    const value = { contacts: [{ profile: { name: input.data.profileName ?? 'Simulated User' }, wa_id: input.data.from }], messages: [message] };
    const deliveries = Array.from({ length: input.data.deliveries }, () => ctx.sender.send(subscription, value, [`message:${String(message.id)}`]));
    return (sendJson(res, 202, { messageId: message.id, ...(mediaId ? { mediaId } : {}), deliveries: deliveries.map((d) => d.id) }), true);
  }
  if (method === 'GET' && path === '/api/messages') return (sendJson(res, 200, { value: state.sent }), true);
  if (method === 'DELETE' && path === '/api/messages') {
    state.forget();
    res.writeHead(204).end();
    return true;
  }
  if (method === 'GET' && path === '/api/deliveries') return (sendJson(res, 200, { value: state.deliveries }), true);
  if (method === 'POST' && path === '/api/deliveries/redeliver') {
    const input = redeliverSchema.safeParse((await body()) ?? {});
    if (!input.success) return (invalid(res, input.error), true);
    const chosen = state.deliveries.filter((d) => d.state === 'delivered' && (!input.data.ids || input.data.ids.includes(d.id)));
    const statuses = [];
    for (const delivery of chosen) statuses.push(await ctx.sender.redeliver(delivery));
    return (sendJson(res, 200, { redelivered: chosen.length, statuses }), true);
  }
  for (const [route, kind] of [
    ['/api/failing-numbers', 'failing'],
    ['/api/refused-numbers', 'refused'],
  ] as const) {
    if (path !== route) continue;
    if (method === 'GET') return (sendJson(res, 200, kind === 'failing' ? { numbers: [...state.failingNumbers] } : { numbers: Object.fromEntries(state.refusedNumbers) }), true);
    if (method !== 'PUT') break;
    const input = numbersSchema.safeParse(await body());
    if (!input.success) return (invalid(res, input.error), true);
    if (kind === 'failing') state.failingNumbers = new Set(input.data.numbers);
    else state.refusedNumbers = new Map(input.data.numbers.map((n) => [n, input.data.code ?? 131030]));
    res.writeHead(204).end();
    return true;
  }
  if (templates && method === 'GET') return (sendJson(res, 200, { value: state.templatesOf(templates[1]!) }), true);
  if (templates && method === 'PUT') {
    const input = templatesSchema.safeParse(await body());
    if (!input.success) return (invalid(res, input.error), true);
    state.templates.set(templates[1]!, input.data.templates.map((t) => ({ ...t, id: newGraphId() })));
    res.writeHead(204).end();
    return true;
  }
  return false;
}

/** A user's message as WhatsApp's webhook carries it; media are stored (or generated) for download. */
function inboundMessage(input: z.infer<typeof inboundSchema>, state: CloudState): { message: Record<string, unknown>; mediaId?: string } {
  const type = input.type ?? (input.media ? 'image' : input.reaction ? 'reaction' : input.button ? 'button' : input.interactive ? 'interactive' : input.location ? 'location' : 'text');
  const message: Record<string, unknown> = { from: input.from, id: newWamid(), timestamp: String(Math.floor(Date.now() / 1000)), type };
  if (input.context) message.context = { from: state.sent.find((m) => m.id === input.context!.messageId)?.to ?? input.from, id: input.context.messageId };
  let mediaId: string | undefined;
  if (['image', 'document', 'video', 'audio', 'sticker'].includes(type)) {
    const media = input.media ?? { mimeType: 'image/jpeg', base64: Buffer.from('simulated image').toString('base64') };
    const stored = storeMedia(state, input.phoneNumberId, media);
    mediaId = stored.id;
    message[type] = {
      id: stored.id,
      mime_type: stored.mimeType,
      sha256: Buffer.from(stored.sha256, 'hex').toString('base64'),
      ...(media.caption !== undefined && type !== 'audio' && type !== 'sticker' ? { caption: media.caption } : {}),
      ...(type === 'document' ? { filename: media.fileName ?? 'document.pdf' } : {}),
      ...(type === 'sticker' ? { animated: false } : {}),
      ...(type === 'audio' ? { voice: false } : {}),
    };
  } else if (type === 'text') message.text = { body: input.text ?? '' };
  else if (type === 'reaction') message.reaction = { message_id: input.reaction?.messageId ?? '', emoji: input.reaction?.emoji ?? '👍' };
  else if (type === 'button') message.button = { text: input.button?.text ?? '', payload: input.button?.payload ?? '' };
  else if (type === 'interactive') {
    const reply = input.interactive ?? { type: 'button_reply' as const, id: 'button-1', title: 'Yes' };
    message.interactive = { type: reply.type, [reply.type]: { id: reply.id, title: reply.title, ...(reply.description !== undefined ? { description: reply.description } : {}) } };
  } else if (type === 'location') message.location = input.location ?? { latitude: 47.6, longitude: -122.3 };
  return { message, ...(mediaId ? { mediaId } : {}) };
}

function storeMedia(state: CloudState, phoneNumberId: string, media: z.infer<typeof mediaSchema>): StoredMedia {
  const id = newGraphId();
  let stored: StoredMedia;
  if (media.base64 !== undefined) {
    const bytes = Buffer.from(media.base64, 'base64');
    stored = { id, phoneNumberId, mimeType: media.mimeType, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), content: bytes };
  } else {
    const seed = media.seed ?? 1;
    const size = media.size ?? 1024;
    stored = { id, phoneNumberId, mimeType: media.mimeType, size, sha256: generatedMediaSha256(seed, size), content: { seed } };
  }
  state.media.set(id, stored);
  return stored;
}
