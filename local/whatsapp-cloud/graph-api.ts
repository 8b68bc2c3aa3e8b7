import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { fbtraceId, newWamid, type CloudState, type SentMessage } from './cloud-state.js';
import { generatedMedia } from './generated-media.js';

/**
 * The simulator's Graph API, as the WhatsApp Business Cloud API answers it (bearer token required;
 * errors as `{"error": {"message", "type", "code", "error_subcode"?, "error_data"?, "fbtrace_id"}}`):
 *
 *   POST /{version}/{phone-number-id}/messages       send: `{messaging_product, contacts, messages: [{id}]}`
 *   GET  /{version}/{waba-id}/message_templates      templates, cursor paging (`limit`, `after`; `paging.next`)
 *   GET  /{version}/{media-id}[?phone_number_id=]    `{url, mime_type, sha256, file_size, id}`
 *   GET  /whatsapp_business/attachments/?mid=...     the media's bytes (bearer token required)
 */
const MESSAGE_TYPES = new Set(['text', 'image', 'document', 'video', 'audio', 'sticker', 'template', 'location', 'contacts', 'interactive', 'reaction']);

export interface GraphContext {
  state: CloudState;
  accessToken: string;
  /** The simulator's origin (media URLs point at it). */
  origin: () => string;
  onAccepted: (message: SentMessage) => void;
}

export function graphError(res: ServerResponse, status: number, code: number, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { error: { message, type: 'OAuthException', code, ...extra, fbtrace_id: fbtraceId() } });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

const mediaHash = (id: string, token: string) => createHmac('sha256', token).update(id).digest('hex').slice(0, 16);

/** Serves a Graph API request; false when the path is not one of the Graph API's. */
export async function handleGraph(req: IncomingMessage, res: ServerResponse, url: URL, body: () => Promise<unknown>, ctx: GraphContext): Promise<boolean> {
  const attachments = url.pathname.replace(/\/+$/, '') === '/whatsapp_business/attachments';
  const parts = url.pathname.split('/').filter((p) => p !== '');
  const versioned = parts.length >= 2 && /^v\d+\.\d+$/.test(parts[0]!);
  if (!attachments && !versioned) return false;
  if (req.headers.authorization !== `Bearer ${ctx.accessToken}`) {
    req.resume();
    graphError(res, 401, 190, 'Invalid OAuth access token - Cannot parse access token');
    return true;
  }
  if (attachments) return download(res, url, ctx);
  const [, id, edge] = parts as [string, string, string | undefined];
  if (req.method === 'POST' && edge === 'messages' && parts.length === 3) return send(res, id, await body(), ctx);
  if (req.method === 'GET' && edge === 'message_templates' && parts.length === 3) return templates(res, id, url, ctx);
  if (req.method === 'GET' && edge === undefined) return mediaInfo(res, id, url, ctx);
  req.resume();
  graphError(res, 400, 100, `Unsupported ${req.method?.toLowerCase() ?? ''} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, { error_subcode: 33 });
  return true;
}

function send(res: ServerResponse, phoneNumberId: string, input: unknown, ctx: GraphContext): boolean {
  const body = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const invalid = (message: string) => graphError(res, 400, 100, `(#100) ${message}`, { error_data: { messaging_product: 'whatsapp', details: message } });
  if (body.messaging_product !== 'whatsapp') return (invalid('The parameter messaging_product is required.'), true);
  const to = typeof body.to === 'string' ? body.to.replace(/^\+/, '') : '';
  if (!/^\d{7,15}$/.test(to)) return (invalid('Invalid parameter: to'), true);
  const type = typeof body.type === 'string' ? body.type : 'text';
  if (!MESSAGE_TYPES.has(type) || typeof body[type] !== 'object' || body[type] === null) return (invalid(`Param ${type} is required for type ${type}.`), true);
  if (type === 'template') {
    const template = body.template as { name?: unknown; language?: { code?: unknown } };
    const account = ctx.state.businessAccountOf(phoneNumberId);
    const known = account === undefined || ctx.state.templatesOf(account).some((t) => t.name === template.name && t.language === template.language?.code && t.status === 'APPROVED');
    if (!known) {
      graphError(res, 404, 132001, '(#132001) Template name does not exist in the translation', { error_data: { messaging_product: 'whatsapp', details: `template name (${String(template.name)}) does not exist in ${String(template.language?.code)}` } });
      return true;
    }
  }
  const refused = ctx.state.refusedNumbers.get(to);
  if (refused !== undefined) {
    const known: Record<number, [number, string]> = {
      131030: [400, 'Recipient phone number not in allowed list'],
      130429: [400, 'Rate limit hit'],
      131000: [500, 'Something went wrong'],
      190: [401, 'Error validating access token: Session has expired'],
    };
    const [status, title] = known[refused] ?? [400, 'Message failed to send'];
    graphError(res, status, refused, `(#${refused}) ${title}`, { error_data: { messaging_product: 'whatsapp', details: `${title}.` } });
    return true;
  }
  const message: SentMessage = { id: newWamid(), phoneNumberId, to, type, body, receivedAt: new Date().toISOString(), statuses: [] };
  ctx.state.sent.push(message);
  sendJson(res, 200, { messaging_product: 'whatsapp', contacts: [{ input: String(body.to), wa_id: to }], messages: [{ id: message.id, ...(type === 'template' ? { message_status: 'accepted' } : {}) }] });
  ctx.onAccepted(message);
  return true;
}

function templates(res: ServerResponse, businessAccountId: string, url: URL, ctx: GraphContext): boolean {
  const all = ctx.state.templatesOf(businessAccountId);
  const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 25) || 25, 1), 1000);
  const after = url.searchParams.get('after');
  const start = after ? Number(Buffer.from(after, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) return (graphError(res, 400, 100, '(#100) Invalid cursor: after'), true);
  const page = all.slice(start, start + limit);
  const fields = (url.searchParams.get('fields') ?? 'name,language,status,category,id,components').split(',');
  const cursor = (index: number) => Buffer.from(String(index), 'utf8').toString('base64url');
  const next = new URL(url);
  next.searchParams.set('after', cursor(start + limit));
  sendJson(res, 200, {
    data: page.map((t) => Object.fromEntries(Object.entries(t).filter(([key]) => fields.includes(key) || key === 'id'))),
    paging: { cursors: { before: cursor(start), after: cursor(start + page.length) }, ...(start + limit < all.length ? { next: `${ctx.origin()}${next.pathname}${next.search}` } : {}) },
  });
  return true;
}

function mediaInfo(res: ServerResponse, mediaId: string, url: URL, ctx: GraphContext): boolean {
  const media = ctx.state.media.get(mediaId);
  const phoneNumberId = url.searchParams.get('phone_number_id');
  if (!media || (phoneNumberId !== null && phoneNumberId !== media.phoneNumberId)) {
    graphError(res, 400, 100, `Unsupported get request. Object with ID '${mediaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, { error_subcode: 33 });
    return true;
  }
  const link = `${ctx.origin()}/whatsapp_business/attachments/?mid=${media.id}&ext=${Math.floor(Date.now() / 1000)}&hash=${mediaHash(media.id, ctx.accessToken)}`;
  sendJson(res, 200, { messaging_product: 'whatsapp', url: link, mime_type: media.mimeType, sha256: media.sha256, file_size: media.size, id: media.id });
  return true;
}

async function download(res: ServerResponse, url: URL, ctx: GraphContext): Promise<boolean> {
  const id = url.searchParams.get('mid') ?? '';
  const media = ctx.state.media.get(id);
  if (!media || url.searchParams.get('hash') !== mediaHash(id, ctx.accessToken)) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    return true;
  }
  res.writeHead(200, { 'content-type': media.mimeType, 'content-length': String(media.size), 'content-disposition': 'attachment' });
  const source = Buffer.isBuffer(media.content) ? media.content : generatedMedia(media.content.seed, media.size);
  if (Buffer.isBuffer(source)) res.end(source);
  else {
    const hold = ctx.state.mediaHolds.get(id);
    ctx.state.mediaHolds.delete(id);
    await pipeline(hold ? held(source, hold) : source, res).catch(() => res.destroy());
  }
  return true;
}

/** The media's chunks, stopping once `afterBytes` have gone until the hold is released. */
async function* held(source: AsyncIterable<Buffer>, hold: { afterBytes: number; released: Promise<void>; arrive(): void }): AsyncGenerator<Buffer> {
  let sent = 0;
  for await (const chunk of source) {
    if (sent < hold.afterBytes && sent + chunk.length > hold.afterBytes) {
      yield chunk.subarray(0, hold.afterBytes - sent);
      hold.arrive();
      await hold.released;
      yield chunk.subarray(hold.afterBytes - sent);
    } else {
      yield chunk;
      if (sent + chunk.length === hold.afterBytes) {
        hold.arrive();
        await hold.released;
      }
    }
    sent += chunk.length;
  }
}
