import type { BlockBlobClient } from '@azure/storage-blob';
import type { BundleState } from './privacy-request.js';

/**
 * A request's result document (an inventory listing or an export bundle), written as one JSON file
 * in the geography's `exports` container a page at a time, across as many invocations as it takes:
 *
 *   { <header fields>, "data": { "<section>": [ ...items ], ... } }
 *
 * Each page is staged as block n+1 (its index is in the request's checkpoint, so a step that is
 * redone stages the same block again); the header, which carries the final counts, is staged as
 * block 0 at the end, and committing the block list makes the file appear whole or not at all.
 */
export const emptyBundle = (): BundleState => ({ blocks: 0, bytes: 0, openSection: null, sectionItems: 0, sections: [] });

const blockId = (index: number) => Buffer.from(`blk-${String(index).padStart(8, '0')}`).toString('base64');

export async function appendToBundle(blob: BlockBlobClient, state: BundleState, section: string, entries: unknown[]): Promise<BundleState> {
  if (entries.length === 0) return state;
  let fragment = '';
  let sectionItems = state.sectionItems;
  const sections = [...state.sections];
  if (state.openSection !== section) {
    if (state.openSection) fragment += ']';
    fragment += `${sections.length > 0 ? ',' : ''}${JSON.stringify(section)}:[`;
    sections.push(section);
    sectionItems = 0;
  }
  fragment += entries.map((e, i) => (sectionItems + i > 0 ? ',' : '') + JSON.stringify(e)).join('');
  const data = Buffer.from(fragment, 'utf8');
  const index = state.blocks + 1;
  await blob.stageBlock(blockId(index), data, data.length);
  return { blocks: index, bytes: state.bytes + data.length, openSection: section, sectionItems: sectionItems + entries.length, sections };
}

/** Stages header and footer and commits the file. Every section in `allSections` appears (empty ones as []). */
export async function commitBundle(
  blob: BlockBlobClient,
  state: BundleState,
  header: Record<string, unknown>,
  allSections: readonly string[],
  options: { tags: Record<string, string> },
): Promise<number> {
  const head = Buffer.from(`${JSON.stringify(header).slice(0, -1)},"data":{`, 'utf8');
  const missing = allSections.filter((s) => !state.sections.includes(s));
  const tail = Buffer.from(
    (state.openSection ? ']' : '') + missing.map((s, i) => `${state.sections.length + i > 0 ? ',' : ''}${JSON.stringify(s)}:[]`).join('') + '}}',
    'utf8',
  );
  const last = state.blocks + 1;
  await blob.stageBlock(blockId(0), head, head.length);
  await blob.stageBlock(blockId(last), tail, tail.length);
  const ids = Array.from({ length: last + 1 }, (_, i) => blockId(i));
  await blob.commitBlockList(ids, { blobHTTPHeaders: { blobContentType: 'application/json' }, tags: options.tags });
  return head.length + state.bytes + tail.length;
}
