import { createRequire } from 'node:module';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { skipEmptyLokiRemovals } from '../../local/emulators/azurite-lokijs.js';
import { startEmbeddedQueue, type EmbeddedQueue } from '../../local/emulators/azurite-queue.js';

/**
 * The lokijs of Azurite's metadata stores, as the embedded emulators patch it: a removal of nothing
 * does no work, a removal of one document updates the indices in place, and removals of several are
 * lokijs's own; what is found afterwards is the same either way. And the queue service on it still
 * drops expired messages.
 */
type Doc = { name: string; at: number; $loki?: number };
interface Collection {
  insert(doc: Doc): Doc;
  remove(doc: Doc | Doc[]): void;
  find(query: object): Doc[];
  chain(): { find(query: object): { remove(): void } };
  ensureAllIndexes(force?: boolean): void;
  removeBatchByPositions: unknown;
}
const fromAzurite = createRequire(createRequire(import.meta.url).resolve('azurite/package.json'));
const Loki = fromAzurite('lokijs') as new (name: string) => { addCollection(name: string, options: object): Collection };

let collections = 0;
/** A collection indexed as Azurite indexes its messages, with `n` documents. */
function filled(n: number): Collection {
  const collection = new Loki(`test-${(collections += 1)}`).addCollection('messages', { indices: ['name', 'at'] });
  for (let i = 0; i < n; i += 1) collection.insert({ name: `m${i}`, at: (i * 7919) % n });
  return collection;
}
const names = (docs: Doc[]) => docs.map((d) => d.name).sort();

describe('lokijs removals', () => {
  beforeAll(() => skipEmptyLokiRemovals());

  it('installs once, however often it is called', () => {
    const patched = filled(0).removeBatchByPositions;
    skipEmptyLokiRemovals();
    expect(filled(0).removeBatchByPositions).toBe(patched);
  });

  it('a removal of nothing touches no index and removes nothing', () => {
    const collection = filled(50);
    const rebuild = vi.spyOn(collection, 'ensureAllIndexes');
    collection.remove([]);
    collection.chain().find({ at: { $gt: 1_000 } }).remove();
    expect(rebuild).not.toHaveBeenCalled();
    expect(collection.find({})).toHaveLength(50);
    expect(names(collection.find({ at: { $lt: 3 } }))).toEqual(names(filled(50).find({ at: { $lt: 3 } })));
  });

  it('a removal of one document re-sorts no index, and the indices still find exactly what is left', () => {
    const collection = filled(50);
    const rebuild = vi.spyOn(collection, 'ensureAllIndexes');
    const [first] = collection.find({ name: 'm10' });
    collection.remove([first!]);
    collection.chain().find({ name: 'm11' }).remove();
    expect(rebuild).not.toHaveBeenCalled();
    expect(collection.find({})).toHaveLength(48);
    expect(collection.find({ name: { $in: ['m10', 'm11'] } })).toEqual([]);
    // Every range over the index answers as a scan of what is left would.
    const left = collection.find({}).filter((d) => d.name !== 'm10' && d.name !== 'm11');
    for (const bound of [0, 1, 10, 25, 49, 50]) expect(names(collection.find({ at: { $lt: bound } }))).toEqual(names(left.filter((d) => d.at < bound)));
  });

  it('a removal of several removes exactly those, and the indices find exactly what is left', () => {
    const collection = filled(50);
    collection.chain().find({ at: { $lt: 20 } }).remove();
    expect(collection.find({})).toHaveLength(30);
    expect(collection.find({ at: { $lt: 20 } })).toEqual([]);
    const left = collection.find({});
    expect(left.every((d) => d.at >= 20)).toBe(true);
    for (const bound of [20, 21, 35, 49, 50]) expect(names(collection.find({ at: { $lt: bound } }))).toEqual(names(left.filter((d) => d.at < bound)));
  });
});

describe('the embedded queue service on it', () => {
  let queue: EmbeddedQueue;
  beforeAll(async () => {
    queue = await startEmbeddedQueue(0);
  });
  afterAll(async () => queue?.stop());

  it('drops a message once its time to live has passed, and keeps the others', async () => {
    const client = new QueueClient(queue.connectionString, 'expiring');
    await client.create();
    await client.sendMessage('short', { messageTimeToLive: 1 });
    await client.sendMessage('long');
    expect((await client.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText).sort()).toEqual(['long', 'short']);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const received = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
    expect(received.receivedMessageItems.map((m) => m.messageText)).toEqual(['long']);
    await client.deleteMessage(received.receivedMessageItems[0]!.messageId, received.receivedMessageItems[0]!.popReceipt);
    expect((await client.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toEqual([]);
  });
});
