import { randomBytes } from 'node:crypto';
import type { GeoStore } from '../stores/geo-store.js';
import { ignoreNotFound } from '../stores/not-found.js';
import type { EmailMessageInput } from './email-message.js';

/**
 * The message being delivered (subject, bodies, attachments, headers, display names), the only place
 * it is kept: a blob in the geography's `email-content` container, `{resourceId}/{operationId}/{nonce}`,
 * written when the send is accepted and deleted once every recipient has its outcome. The nonce keeps
 * two concurrent requests with one Operation-Id from writing the same blob (the loser deletes its own).
 * The storage lifecycle rule deletes anything left after 2 days (the retry window is at most one).
 */
/** Days after which the storage lifecycle rule deletes a content blob whatever happened (infra/catalogue.json). */
export const EMAIL_CONTENT_BACKSTOP_DAYS = 2;

export interface StoredMessage {
  message: EmailMessageInput;
  /** The sender username's display name at the time of the send. */
  senderDisplayName: string;
}

export async function writeContent(geo: GeoStore, resourceId: string, operationId: string, stored: StoredMessage): Promise<string> {
  const name = `${resourceId}/${operationId}/${randomBytes(8).toString('hex')}`;
  const body = Buffer.from(JSON.stringify(stored), 'utf8');
  await (await geo.blobContainer('email-content')).getBlockBlobClient(name).uploadData(body, {
    blobHTTPHeaders: { blobContentType: 'application/json' },
  });
  return name;
}

/** The stored message, or undefined when it is gone. */
export async function readContent(geo: GeoStore, blobName: string): Promise<StoredMessage | undefined> {
  try {
    const buffer = await (await geo.blobContainer('email-content')).getBlockBlobClient(blobName).downloadToBuffer();
    return JSON.parse(buffer.toString('utf8')) as StoredMessage;
  } catch (error) {
    ignoreNotFound(error);
    return undefined;
  }
}

export async function deleteContent(geo: GeoStore, blobName: string): Promise<void> {
  await (await geo.blobContainer('email-content')).deleteBlob(blobName, { deleteSnapshots: 'include' }).catch(ignoreNotFound);
}
