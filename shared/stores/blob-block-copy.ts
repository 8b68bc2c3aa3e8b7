import type { BlobHTTPHeaders, BlockBlobClient } from '@azure/storage-blob';
import { discardStagedBlocks } from './block-blob-writer.js';
import type { CopySource } from './copy-source.js';

/** The storage service's most blocks per blob; blocks grow past the configured size to stay under it. */
const MAX_BLOCKS = 50_000;

export interface BlockCopyOptions {
  /** The source's ETag when the copy was decided: the copy is refused if the source changed since. */
  sourceEtag: string;
  sourceLength: number;
  /** Bytes per Put Block From URL (the service allows up to 4000 MiB). */
  blockBytes: number;
  /** Blocks staged at once. */
  concurrency: number;
  /** How the service may read the source, asked for each block (tokens and SASs expire). */
  source: () => Promise<CopySource>;
  /** Set on the target when it is committed. */
  tags: Record<string, string>;
  metadata: Record<string, string>;
  headers: BlobHTTPHeaders;
}

export type BlockCopyResult =
  | { outcome: 'copied'; etag: string; contentLength: number }
  /** The source was overwritten meanwhile: nothing committed. */
  | { outcome: 'sourceChanged' }
  /** The source was deleted meanwhile: nothing committed. */
  | { outcome: 'sourceGone' };

const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

/**
 * A server-side copy of a block blob of any size, with no byte through this process and no account
 * key: the target's blocks are staged from ranges of the source's URL (Put Block From URL, authorized
 * by `source()`, see copy-source.ts) and committed with the target's tags, metadata and headers. A
 * single Copy Blob From URL would stop at 256 MiB, and the async Copy Blob used before relied on the
 * account key authorizing a same-account source.
 *
 * The copy is refused if the source changed: after the last block is staged the source must still
 * have `sourceEtag` (a blob's ETag changes with every write, so an unchanged ETag means no block read
 * another version). The SDK's stageBlockFromURL (12.32) does not send source conditions
 * (`x-ms-source-if-match`), hence this one check instead of one per block. The commit creates the
 * target only if it does not exist: a concurrent copy of the same source that committed first is the
 * answer. Nothing is visible until the commit; on a failure before it the staged blocks are dropped.
 */
export async function copyByBlocks(source: BlockBlobClient, target: BlockBlobClient, options: BlockCopyOptions): Promise<BlockCopyResult> {
  const blockBytes = Math.max(options.blockBytes, Math.ceil(options.sourceLength / MAX_BLOCKS));
  const count = Math.ceil(options.sourceLength / blockBytes);
  const blockIds = Array.from({ length: count }, (_, index) => Buffer.from(`copy-${String(index).padStart(6, '0')}`).toString('base64'));
  const staging = await stageAll(target, blockIds, blockBytes, options).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  // Also after a failed block: a source that changed or went is the reason (a shorter one fails its last ranges).
  type SourceState = 'unchanged' | 'sourceChanged' | 'sourceGone';
  const now = await source.getProperties().then(
    (properties): SourceState => (properties.etag === options.sourceEtag ? 'unchanged' : 'sourceChanged'),
    (error: unknown): SourceState => {
      if (statusOf(error) === 404) return 'sourceGone';
      throw error;
    },
  );
  if (now !== 'unchanged') {
    await discardStagedBlocks(target);
    return { outcome: now };
  }
  if (staging) {
    await discardStagedBlocks(target);
    throw staging.error;
  }
  const commit = (conditions: { ifNoneMatch: string } | { ifMatch: string }) =>
    target.commitBlockList(blockIds, { tags: options.tags, metadata: options.metadata, blobHTTPHeaders: options.headers, conditions });
  let committed: { etag?: string };
  try {
    committed = await commit({ ifNoneMatch: '*' });
  } catch (error) {
    if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
    const existing = await target.getProperties();
    // A concurrent copy of the same source made it first: that copy is the answer.
    if (existing.contentLength === options.sourceLength && Object.entries(options.metadata).every(([k, v]) => existing.metadata?.[k] === v)) {
      return { outcome: 'copied', etag: existing.etag ?? '', contentLength: options.sourceLength };
    }
    // Something else (an emptied blob a failed discard left): replaced, unless it changes meanwhile.
    committed = await commit({ ifMatch: existing.etag ?? '' });
  }
  return { outcome: 'copied', etag: committed.etag ?? '', contentLength: options.sourceLength };
}

/** Stages every block, `concurrency` at a time; the first failure stops the rest and is thrown. */
async function stageAll(target: BlockBlobClient, blockIds: string[], blockBytes: number, options: BlockCopyOptions): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < blockIds.length) {
      const index = next++;
      const offset = index * blockBytes;
      const length = Math.min(blockBytes, options.sourceLength - offset);
      try {
        const { url, authorization } = await options.source();
        await target.stageBlockFromURL(blockIds[index]!, url, offset, length, authorization ? { sourceAuthorization: authorization } : {});
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, blockIds.length)) }, worker));
  if (failure) throw failure.error;
}
