import { isTokenCredential } from '@azure/core-auth';
import type { BlobClient, HttpAuthorization } from '@azure/storage-blob';

/** Microsoft Entra scope of Azure Storage (the token's audience is `https://storage.azure.com`). */
export const STORAGE_SCOPE = 'https://storage.azure.com/.default';

/** How long a source SAS is valid: one block's read, with room for clock skew. */
const SAS_VALIDITY_MS = 60 * 60_000;
const SAS_SKEW_MS = 5 * 60_000;

/** A copy source as the storage service reads it: its URL and, for Entra access, the header that authorizes the read. */
export interface CopySource {
  url: string;
  /** Sent as `x-ms-copy-source-authorization` (Bearer token of the app's identity). */
  authorization?: HttpAuthorization;
}

/**
 * How the storage service may read a blob copied from its URL (Put Block From URL): the service
 * reads the source as an anonymous caller unless the request says otherwise, even within one account.
 * - A client with a Microsoft Entra credential (keyless): `x-ms-copy-source-authorization: Bearer
 *   <token>` of the app's own identity, which needs read access to the source (Storage Blob Data
 *   Owner covers it). No key and no SAS.
 * - A client with the account key (a connection string with AccountKey): a read-only SAS for this
 *   blob, signed with that key, valid for an hour.
 * - Any other client (a SAS connection string): the URL as it is.
 * Called for each block, so a long copy never runs on an expired token or SAS. The SAS is timed
 * by the real clock (the storage service's), never the app's (tests move it).
 */
export async function copySourceOf(blob: BlobClient): Promise<CopySource> {
  const credential = blob.credential;
  if (isTokenCredential(credential)) {
    const token = await credential.getToken(STORAGE_SCOPE);
    if (!token) throw new Error('The Microsoft Entra credential gave no token for Azure Storage');
    return { url: blob.url, authorization: { scheme: 'Bearer', value: token.token } };
  }
  const { BlobSASPermissions, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  if (credential instanceof StorageSharedKeyCredential) {
    const now = Date.now();
    const url = await blob.generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      startsOn: new Date(now - SAS_SKEW_MS),
      expiresOn: new Date(now + SAS_VALIDITY_MS),
    });
    return { url };
  }
  return { url: blob.url };
}
