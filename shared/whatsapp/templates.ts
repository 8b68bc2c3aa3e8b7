import * as z from 'zod';
import { ServiceError } from '../errors/service-error.js';
import type { ChannelRecord } from './channel.js';
import { GraphError, type GraphClient } from './graph-client.js';
import { upstreamFailure } from './graph-errors.js';

/**
 * `GET /messages/channels/{channelId}/templates`: the channel's business account's message
 * templates, a page at a time, from the Graph API's `GET /{waba-id}/message_templates` (cursor
 * paging: `limit`, `after`). Each item is ACS's WhatsAppMessageTemplateItem: `content` is WhatsApp's
 * `components` as WhatsApp gives them, `status` lower-cased (approved, rejected, pending, paused,
 * or WhatsApp's other statuses). The next page's cursor travels in the nextLink's `skipToken`.
 */
export const TEMPLATES_MAX_PAGE_SIZE = 100;

const graphTemplatesSchema = z.object({
  data: z.array(z.looseObject({ name: z.string(), language: z.string(), status: z.string(), components: z.unknown().optional() })),
  paging: z.object({ cursors: z.object({ after: z.string().optional() }).optional(), next: z.string().optional() }).optional(),
});

export const templatesQuerySchema = z.object({
  maxpagesize: z.coerce
    .number({ error: `maxpagesize must be a whole number from 1 to ${TEMPLATES_MAX_PAGE_SIZE}` })
    .int(`maxpagesize must be a whole number from 1 to ${TEMPLATES_MAX_PAGE_SIZE}`)
    .min(1, `maxpagesize must be a whole number from 1 to ${TEMPLATES_MAX_PAGE_SIZE}`)
    .max(TEMPLATES_MAX_PAGE_SIZE, `maxpagesize must be a whole number from 1 to ${TEMPLATES_MAX_PAGE_SIZE}`)
    .default(TEMPLATES_MAX_PAGE_SIZE),
  skipToken: z.string().regex(/^[A-Za-z0-9_=+/-]{1,1024}$/, 'skipToken must be the value a nextLink carries').optional(),
});

export interface TemplatePage {
  value: Record<string, unknown>[];
  /** The cursor of the next page, if there is one. */
  after?: string;
}

export async function listTemplates(graph: GraphClient, baseUrl: string, channel: ChannelRecord, token: string, query: z.infer<typeof templatesQuerySchema>): Promise<TemplatePage> {
  const url = new URL(`${baseUrl}/${channel.businessAccountId}/message_templates`);
  url.searchParams.set('fields', 'name,language,status,components');
  url.searchParams.set('limit', String(query.maxpagesize));
  if (query.skipToken) url.searchParams.set('after', query.skipToken);
  let page: z.infer<typeof graphTemplatesSchema>;
  try {
    page = await graph.json('GET', url.toString(), token, graphTemplatesSchema);
  } catch (error) {
    if (!(error instanceof GraphError)) throw error;
    const failure = upstreamFailure(error, "The channel's templates could not be listed");
    throw new ServiceError(failure.code, failure.message, failure.retryAfterSeconds !== undefined ? { headers: { 'retry-after': String(failure.retryAfterSeconds) } } : {});
  }
  const value = page.data.map((template) => ({
    content: template.components ?? [],
    name: template.name,
    language: template.language,
    kind: 'whatsApp',
    status: template.status.toLowerCase(),
  }));
  const after = page.paging?.next ? page.paging.cursors?.after : undefined;
  return { value, ...(after ? { after } : {}) };
}
