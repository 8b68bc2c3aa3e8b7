import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlockBlobClient } from '@azure/storage-blob';
import type busboy from 'busboy';
import { ServiceError } from '../errors/service-error.js';
import { parseWith } from '../http/validation.js';
import { stageBlocks, type StagedBlocks } from '../stores/block-blob-writer.js';
import { isSupportedMediaType, mediaTypeOf, recordingMetadataSchema, SUPPORTED_MEDIA_TYPES, type RecordingMetadataInput } from './recording-metadata.js';

/**
 * Receives `POST {endpoint}recordings`: a `multipart/form-data` body with a `metadata` part (JSON,
 * see recording-metadata.ts) and a `content` part (the file, with its media type). The content is
 * staged into the given block blob as it arrives and the whole body is hashed on the way, so the
 * HMAC content hash is checked without holding the body. Nothing is committed here: the caller
 * commits only what passed every check.
 */
export interface UploadLimits {
  maxContentBytes: number;
  maxMetadataBytes: number;
  blockBytes: number;
  concurrency: number;
}

export interface ReceivedUpload {
  metadata: RecordingMetadataInput;
  mediaType: string;
  staged: StagedBlocks;
  /** Base64 SHA-256 of the content part alone (kept with the recording). */
  contentSha256: string;
}

const invalid = (target: string, message: string) => new ServiceError('ValidationError', message, { target });
const malformed = () => invalid('body', 'The multipart body is malformed or ends early.');

export async function receiveRecordingUpload(options: {
  body: AsyncIterable<Uint8Array>;
  contentType: string | null;
  blob: BlockBlobClient;
  limits: UploadLimits;
}): Promise<{ bodySha256?: string; upload?: ReceivedUpload; error?: ServiceError }> {
  const { limits } = options;
  if (mediaTypeOf(options.contentType) !== 'multipart/form-data') {
    return {
      error: new ServiceError('UnsupportedMediaType', "Content-Type must be multipart/form-data with a 'metadata' part (JSON) and a 'content' part (the recording).", {
        target: 'Content-Type',
      }),
    };
  }
  const tooLarge = () => new ServiceError('PayloadTooLarge', `The recording is larger than the limit of ${limits.maxContentBytes} bytes.`, { target: 'content' });
  const bodyHash = createHash('sha256');
  const maxBodyBytes = limits.maxContentBytes + limits.maxMetadataBytes + 64 * 1024;
  let bodyBytes = 0;
  async function* hashed() {
    for await (const chunk of options.body) {
      bodyBytes += chunk.byteLength;
      if (bodyBytes > maxBodyBytes) throw tooLarge();
      bodyHash.update(chunk);
      yield chunk;
    }
  }

  // busboy is imported on first upload (the deployed bundle keeps it out of the cold start).
  const createParser = (await import('busboy')).default;
  let parser: busboy.Busboy;
  try {
    parser = createParser({
      headers: { 'content-type': options.contentType ?? '' },
      // busboy emits partsLimit on reaching the count, so 3 means "a third part arrived".
      limits: { fields: 2, files: 2, parts: 3, fieldSize: limits.maxMetadataBytes },
    });
  } catch {
    return { error: invalid('Content-Type', 'The multipart Content-Type has no boundary.') };
  }
  let problem: ServiceError | undefined;
  const refuse = (error: ServiceError) => (problem ??= error);
  let metadataText: string | undefined;
  let metadataFile: Promise<unknown> | undefined;
  let mediaType = '';
  let staging: Promise<{ staged: StagedBlocks; contentSha256: string }> | undefined;
  let stagingError: unknown;

  const unexpected = (name: string) => invalid(name.slice(0, 64), `Unexpected form part '${name.slice(0, 64)}'; send 'metadata' and 'content'.`);
  const duplicate = (name: string) => invalid(name, `Only one '${name}' part is allowed.`);
  parser.on('field', (name, value, info) => {
    if (name !== 'metadata') return refuse(unexpected(name));
    if (metadataText !== undefined || metadataFile) return refuse(duplicate(name));
    if (info.valueTruncated) return refuse(invalid('metadata', `The metadata is larger than ${limits.maxMetadataBytes} bytes.`));
    metadataText = value;
  });
  parser.on('file', (name, stream, info) => {
    if (name === 'metadata') {
      if (metadataText !== undefined || metadataFile) {
        stream.resume();
        return refuse(duplicate(name));
      }
      metadataFile = collectText(stream, limits.maxMetadataBytes).then(
        (text) => (metadataText = text),
        () => refuse(invalid('metadata', `The metadata is larger than ${limits.maxMetadataBytes} bytes.`)),
      );
      return;
    }
    if (name !== 'content' || staging) {
      stream.resume();
      return refuse(name === 'content' ? duplicate(name) : unexpected(name));
    }
    mediaType = mediaTypeOf(info.mimeType);
    if (!isSupportedMediaType(mediaType)) {
      stream.resume();
      return refuse(
        new ServiceError('UnsupportedMediaType', `'${mediaType || 'none'}' is not a recording media type; use one of ${SUPPORTED_MEDIA_TYPES.join(', ')}.`, { target: 'content' }),
      );
    }
    const contentHash = createHash('sha256');
    async function* content() {
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          contentHash.update(chunk);
          yield chunk;
        }
      } catch (error) {
        // The part ended in error: the body was cut off, malformed or too large (the request's fault, not the store's).
        throw error instanceof ServiceError ? error : malformed();
      }
    }
    staging = stageBlocks(options.blob, content(), { ...limits, maxBytes: limits.maxContentBytes, onTooLarge: tooLarge }).then((staged) => ({
      staged,
      contentSha256: contentHash.digest('base64'),
    }));
    // Staging stopped (too large, or the store failed): stop reading the request too.
    staging.catch((error: unknown) => {
      stagingError = error;
      parser.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  parser.on('partsLimit', () => refuse(invalid('body', "Send exactly two parts: 'metadata' and 'content'.")));

  // A failure while reading or parsing the body is the request's fault; one while staging, the store's.
  const readError = await pipeline(Readable.from(hashed()), parser).then(() => undefined, (error: unknown) => error ?? new Error('aborted'));
  const [stagedResult] = await Promise.all([staging?.catch(() => undefined), metadataFile]);
  if (stagingError && !(stagingError instanceof ServiceError)) throw stagingError;
  // The request's own fault (such as a body over the limit) before what it caused in the staging.
  const failure = readError instanceof ServiceError ? readError : (stagingError ?? readError);
  if (failure) return { error: failure instanceof ServiceError ? failure : malformed() };
  const bodySha256 = bodyHash.digest('base64');
  if (problem) return { bodySha256, error: problem };
  if (metadataText === undefined) return { bodySha256, error: invalid('metadata', "The 'metadata' part is missing.") };
  if (!stagedResult) return { bodySha256, error: invalid('content', "The 'content' part is missing.") };
  let metadataJson: unknown;
  try {
    metadataJson = JSON.parse(metadataText);
  } catch {
    return { bodySha256, error: invalid('metadata', "The 'metadata' part is not valid JSON.") };
  }
  try {
    const metadata = parseWith(recordingMetadataSchema, metadataJson, 'recording metadata');
    return { bodySha256, upload: { metadata, mediaType, staged: stagedResult.staged, contentSha256: stagedResult.contentSha256 } };
  } catch (error) {
    if (error instanceof ServiceError) return { bodySha256, error };
    throw error;
  }
}

/** A small part's text; past `maxBytes` the rest is read and dropped (so the parser goes on), then refused. */
async function collectText(stream: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total <= maxBytes) chunks.push(chunk);
  }
  if (total > maxBytes) throw new Error('metadata too large');
  return Buffer.concat(chunks).toString('utf8');
}
