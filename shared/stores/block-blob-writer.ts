import type { BlockBlobClient } from '@azure/storage-blob';

/**
 * Streams into a block blob without holding it: the source is cut into blocks that are staged as
 * they fill, a few at a time (the source is not read while that many are in flight, so memory stays
 * at about `blockBytes * (concurrency + 1)`). Nothing is visible until the caller commits the block
 * list, so a failed or refused upload leaves no blob behind and never replaces an existing one; its
 * staged blocks are dropped with `discardStagedBlocks` (the storage service would keep them a week).
 */
export interface StagedBlocks {
  blockIds: string[];
  size: number;
}

export interface StageOptions {
  blockBytes: number;
  concurrency: number;
  /** The most the source may hold; past it, the upload stops with `onTooLarge()`. */
  maxBytes: number;
  onTooLarge: () => Error;
}

export async function stageBlocks(blob: BlockBlobClient, source: AsyncIterable<Uint8Array>, options: StageOptions): Promise<StagedBlocks> {
  const blockIds: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let size = 0;

  const stage = async (data: Buffer) => {
    const id = Buffer.from(String(blockIds.length).padStart(8, '0')).toString('base64');
    blockIds.push(id);
    const staging: Promise<void> = blob
      .stageBlock(id, data, data.length)
      .then(() => undefined)
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(staging));
    inFlight.add(staging);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
  };

  const flush = async (final: boolean) => {
    while (pendingBytes >= options.blockBytes || (final && pendingBytes > 0)) {
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      const block = all.subarray(0, Math.min(options.blockBytes, all.length));
      const rest = all.subarray(block.length);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
      await stage(block);
    }
  };

  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > options.maxBytes) throw options.onTooLarge();
      pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= options.blockBytes) await flush(false);
    }
    await flush(true);
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure;
  return { blockIds, size };
}

/**
 * Drops the uncommitted blocks of a blob that does not exist: committing an empty block list discards
 * them, and the empty blob it makes is deleted. A blob that exists is left alone (its uncommitted
 * blocks go when it is overwritten or deleted). Best effort: if the store fails here, the service
 * discards uncommitted blocks after 7 days.
 */
export async function discardStagedBlocks(blob: BlockBlobClient): Promise<boolean> {
  try {
    const { etag } = await blob.commitBlockList([], { conditions: { ifNoneMatch: '*' } });
    await blob.delete({ conditions: { ifMatch: etag } });
    return true;
  } catch {
    return false;
  }
}
