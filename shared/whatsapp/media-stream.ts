import type { Readable } from 'node:stream';
import * as z from 'zod';
import { ServiceError } from '../errors/service-error.js';
import type { ChannelRecord } from './channel.js';
import { GraphError, type GraphClient } from './graph-client.js';
import { upstreamFailure } from './graph-errors.js';

/**
 * `GET /messages/streams/{id}`: a user's media (the `media.id` of an AdvancedMessageReceived
 * event, WhatsApp's media id), streamed from WhatsApp to the caller without being held whole or
 * stored: the Graph API's `GET /{media-id}?phone_number_id=...` names a short-lived URL, which is
 * downloaded with the same bearer token and piped through as it arrives. The media belongs to one
 * of the resource's channels: each is asked in turn (WhatsApp answers error 100 for a media id of
 * another phone number), so one resource's key never reaches another's media.
 */
const mediaInfoSchema = z.object({ url: z.string().min(1), mime_type: z.string().optional(), file_size: z.union([z.number(), z.string()]).optional() });

export interface MediaStream {
  contentType: string;
  contentLength?: number;
  body: Readable;
}

/** WhatsApp's answer for an id its token cannot see or that does not exist. */
const isNotFound = (error: GraphError) => error.code === 100 || error.status === 404;

export async function openMedia(
  graph: GraphClient,
  baseUrl: string,
  channels: ChannelRecord[],
  readSetting: (name: string) => string | undefined,
  mediaId: string,
): Promise<MediaStream> {
  for (const channel of channels) {
    const token = readSetting(channel.accessTokenSetting)?.trim();
    if (!token) continue;
    let info: z.infer<typeof mediaInfoSchema>;
    try {
      const url = new URL(`${baseUrl}/${encodeURIComponent(mediaId)}`);
      url.searchParams.set('phone_number_id', channel.phoneNumberId);
      info = await graph.json('GET', url.toString(), token, mediaInfoSchema);
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      if (isNotFound(error)) continue;
      throw asServiceError(error);
    }
    try {
      const response = await graph.stream(info.url, token);
      const length = Number(response.headers['content-length'] ?? info.file_size);
      return {
        contentType: response.headers['content-type'] ?? info.mime_type ?? 'application/octet-stream',
        ...(Number.isSafeInteger(length) && length >= 0 ? { contentLength: length } : {}),
        body: response,
      };
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      if (isNotFound(error)) break;
      throw asServiceError(error);
    }
  }
  throw new ServiceError('NotFound', `Media '${mediaId}' was not found: it is not the media of a message to one of this resource's channels, or WhatsApp no longer keeps it.`, { target: 'id' });
}

function asServiceError(error: GraphError): ServiceError {
  const failure = upstreamFailure(error, 'The media could not be fetched from WhatsApp');
  return new ServiceError(failure.code, failure.message, failure.retryAfterSeconds !== undefined ? { headers: { 'retry-after': String(failure.retryAfterSeconds) } } : {});
}
