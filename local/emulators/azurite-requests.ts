import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { audienceOf, decodeJwtClaims } from './jwt-claims.js';

/** How a request to the embedded Azurite was authorized, as it arrived (before Azurite's checks). */
export type BlobAuthorization = 'bearer' | 'sharedKey' | 'sas' | 'anonymous' | 'other';

export interface BlobRequestRecord {
  method: string;
  /** Path without the query (which may hold a SAS). */
  path: string;
  /** The `comp` query parameter (`block`, `blocklist`, `tags`, ...), if any. */
  comp?: string;
  /** `x-ms-copy-source` was sent: a copy from a URL (Put Block From URL, Copy Blob ...). */
  copiesFromUrl: boolean;
  userAgent: string;
  authorization: BlobAuthorization;
  /** The bearer token's audience and token id (`uti`), when there is one. */
  token?: { audience?: string; tokenId?: string };
  /** `x-ms-copy-source-authorization` of a copy from a URL: its scheme and token. */
  copySource?: { authorization: 'bearer' | 'other'; token?: { audience?: string; tokenId?: string } };
}

const tokenOf = (value: string) => {
  const claims = decodeJwtClaims(value.replace(/^Bearer\s+/i, ''));
  return { audience: audienceOf(claims), tokenId: typeof claims?.uti === 'string' ? claims.uti : undefined };
};

export function describeBlobRequest(req: IncomingMessage): BlobRequestRecord {
  const url = new URL(req.url ?? '/', 'http://azurite');
  const header = req.headers.authorization ?? '';
  let authorization: BlobAuthorization;
  if (/^Bearer\s/i.test(header)) authorization = 'bearer';
  else if (/^SharedKey(Lite)?\s/i.test(header)) authorization = 'sharedKey';
  else if (header) authorization = 'other';
  else authorization = url.searchParams.has('sig') ? 'sas' : 'anonymous';
  const record: BlobRequestRecord = {
    method: req.method ?? '',
    path: url.pathname,
    ...(url.searchParams.has('comp') ? { comp: url.searchParams.get('comp')! } : {}),
    copiesFromUrl: typeof req.headers['x-ms-copy-source'] === 'string',
    userAgent: req.headers['user-agent'] ?? '',
    authorization,
  };
  if (authorization === 'bearer') record.token = tokenOf(header);
  const source = req.headers['x-ms-copy-source-authorization'];
  if (typeof source === 'string') {
    record.copySource = /^Bearer\s/i.test(source) ? { authorization: 'bearer', token: tokenOf(source) } : { authorization: 'other' };
  }
  return record;
}

/** How many records are kept: the newest, between this many and twice as many (a long `npm start` stays small). */
export const MAX_BLOB_REQUEST_RECORDS = 10_000;

/** Records every request the server receives, before Azurite handles it; returns the list (live). */
export function recordBlobRequests(server: EventEmitter): BlobRequestRecord[] {
  const records: BlobRequestRecord[] = [];
  server.prependListener('request', (req: IncomingMessage) => {
    records.push(describeBlobRequest(req));
    if (records.length > 2 * MAX_BLOB_REQUEST_RECORDS) records.splice(0, records.length - MAX_BLOB_REQUEST_RECORDS);
  });
  return records;
}
