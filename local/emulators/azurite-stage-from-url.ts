import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { requireAzurite } from './azurite-modules.js';

/**
 * Put Block From URL (`stageBlockFromURL`) for the embedded Azurite, which answers it with 501 Not
 * Implemented (3.35). The app copies landing files with it (shared/stores/blob-block-copy.ts), so the
 * emulator must do it for real. Like the storage service, the emulator reads the source range as the
 * source authorizes it: a SAS in the source URL, or `x-ms-copy-source-authorization: Bearer <token>`
 * (sent on as the read's `Authorization`, so Azurite's own SAS and OAuth checks decide); without
 * either the read is anonymous and refused for a private container. The source's conditions
 * (`x-ms-source-if-match` ...) apply to that read. Only sources on the same Azurite instance are
 * supported. Applied once per process.
 */
interface StageFromUrlOptions {
  sourceRange?: string;
  copySourceAuthorization?: string;
  requestId?: string;
  leaseAccessConditions?: unknown;
  sourceModifiedAccessConditions?: {
    sourceIfMatch?: string;
    sourceIfNoneMatch?: string;
    sourceIfModifiedSince?: Date;
    sourceIfUnmodifiedSince?: Date;
  };
}

interface HandlerContext {
  contextId?: string;
  request?: { getHeader(name: string): string | undefined };
}

type StageBlock = (blockId: string, contentLength: number, body: Readable, options: object, context: HandlerContext) => Promise<unknown>;

interface BlockBlobHandlerPrototype {
  stageBlock: StageBlock;
  stageBlockFromURL(blockId: string, contentLength: number, sourceUrl: string, options: StageFromUrlOptions, context: HandlerContext): Promise<unknown>;
  stagesFromUrl?: boolean;
}

/** CA certificates (PEM) of the TLS Azurite instances, by origin: the emulator's reads of its own sources trust them. */
const trustedByOrigin = new Map<string, string>();

export function trustCopySourceOrigin(origin: string, ca: string): void {
  trustedByOrigin.set(origin, ca);
}

export function installStageBlockFromUrl(): void {
  const Handler = requireAzurite<{ default: { prototype: BlockBlobHandlerPrototype } }>('azurite/dist/src/blob/handlers/BlockBlobHandler.js').default;
  if (Handler.prototype.stagesFromUrl) return;
  const StorageError = requireAzurite<{ default: new (status: number, code: string, message: string, requestId?: string) => Error }>('azurite/dist/src/blob/errors/StorageError.js').default;

  Handler.prototype.stageBlockFromURL = async function (blockId, _contentLength, sourceUrl, options, context) {
    const requestId = context.contextId;
    const refuse = (status: number, code: string, message: string) => new StorageError(status, code, message, requestId);
    let source: URL;
    try {
      source = new URL(sourceUrl);
    } catch {
      throw refuse(400, 'InvalidHeaderValue', 'The value for x-ms-copy-source is not a URL.');
    }
    const host = context.request?.getHeader('host');
    if (!host || source.host !== host) throw refuse(404, 'CannotVerifyCopySource', 'The copy source must be on this Azurite instance.');

    const response = await readSource(source, sourceHeaders(options));
    const status = response.statusCode ?? 500;
    if (status !== 200 && status !== 206) {
      response.resume();
      if (status === 412) throw refuse(412, 'CannotVerifyCopySource', 'The condition specified using HTTP conditional header(s) is not met.');
      throw refuse(status, 'CannotVerifyCopySource', `The copy source could not be read (status ${status}).`);
    }
    const length = Number(response.headers['content-length']);
    return this.stageBlock(blockId, length, response, { leaseAccessConditions: options.leaseAccessConditions, requestId: options.requestId }, context);
  };
  Handler.prototype.stagesFromUrl = true;
}

function sourceHeaders(options: StageFromUrlOptions): Record<string, string> {
  const headers: Record<string, string> = { 'x-ms-version': '2021-08-06', 'user-agent': 'azurite-stage-block-from-url' };
  if (options.sourceRange) headers['x-ms-range'] = options.sourceRange;
  if (options.copySourceAuthorization) headers.authorization = options.copySourceAuthorization;
  const conditions = options.sourceModifiedAccessConditions ?? {};
  if (conditions.sourceIfMatch) headers['if-match'] = conditions.sourceIfMatch;
  if (conditions.sourceIfNoneMatch) headers['if-none-match'] = conditions.sourceIfNoneMatch;
  if (conditions.sourceIfModifiedSince) headers['if-modified-since'] = conditions.sourceIfModifiedSince.toUTCString();
  if (conditions.sourceIfUnmodifiedSince) headers['if-unmodified-since'] = conditions.sourceIfUnmodifiedSince.toUTCString();
  return headers;
}

function readSource(source: URL, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request =
      source.protocol === 'https:'
        ? https.request(source, { method: 'GET', headers, ca: trustedByOrigin.get(source.origin) }, resolve)
        : http.request(source, { method: 'GET', headers }, resolve);
    request.once('error', reject);
    request.end();
  });
}
