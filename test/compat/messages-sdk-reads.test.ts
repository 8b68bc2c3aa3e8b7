import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { paginate } from '@azure-rest/communication-messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMediaSha256 } from '../../local/whatsapp-cloud/generated-media.js';
import { eventually } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { inject, messagesClient, registerChannel, simulatorOf, type TestChannel } from '../support/whatsapp.js';

/**
 * The official Advanced Messaging client's reads (@azure-rest/communication-messages 2.0): a
 * channel's templates page by page through `paginate`, and a user's media streamed byte for byte
 * (test/compat/messages-sdk.test.ts covers sending and the errors).
 */
let stack: TestStack;
let resource: ResourceView;
let channel: TestChannel;

/** A full garbage collection (the flag can be set at run time; `gc` is then reachable from a new context). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * The memory of live ArrayBuffers: V8 frees a collected buffer's memory on a background thread, so
 * right after a collection the figure may still count garbage (on a loaded machine, by tens of MiB).
 * The lowest of a few collections a moment apart is what is really alive.
 */
async function liveArrayBuffers(): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
    lowest = Math.min(lowest, process.memoryUsage().arrayBuffers);
  }
  return lowest;
}

const USER_DIGITS = '14255550123';

beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe', LOCAL_WHATSAPP_STATUS_DELAY_MS: '3600000' } });
  resource = await stack.createResource('messages-sdk-reads', 'Europe');
  channel = await registerChannel(stack, resource);
});
afterAll(async () => stack?.stop());

const client = () => messagesClient(stack, resource);

describe('templates', () => {
  it('lists every template of the channel, a page of 3 at a time, following nextLink', async () => {
    const first = await client().path('/messages/channels/{channelId}/templates', channel.id).get({ queryParameters: { maxpagesize: 3 } });
    expect(first.status).toBe('200');
    const pages: number[] = [];
    const items: Record<string, unknown>[] = [];
    const iterator = paginate(client(), first as never).byPage();
    for await (const page of iterator) {
      pages.push(page.length);
      items.push(...(page as Record<string, unknown>[]));
    }
    expect(pages).toEqual([3, 3, 3, 1]);
    const templates = simulatorOf(stack).state.templatesOf(channel.businessAccountId);
    expect(items).toEqual(templates.map((t) => ({ content: t.components, name: t.name, language: t.language, kind: 'whatsApp', status: t.status.toLowerCase() })));
    expect(items.map((i) => i.status)).toEqual([...Array<string>(8).fill('approved'), 'pending', 'rejected']);
    // The last page has no nextLink at all; the others an absolute URL keeping the resource and api-version.
    expect((first.body as { nextLink?: string }).nextLink).toMatch(/^https:\/\/(localhost|127\.0\.0\.1):\d+\/\?resource=messages-sdk-reads.*api-version=2024-08-30.*skipToken=/);
  });

  it('in one page by default', async () => {
    const all = await client().path('/messages/channels/{channelId}/templates', channel.id).get();
    expect(all.status).toBe('200');
    expect((all.body as { value: unknown[] }).value).toHaveLength(10);
    expect(all.body).not.toHaveProperty('nextLink');
  });
});

describe('media download', () => {
  it('streams a 64 MiB video byte for byte (Accept: application/json notwithstanding), holding none of it', async () => {
    const size = 64 * 1024 * 1024;
    const half = size / 2;
    const seed = 20261202;
    const { mediaId } = await inject(stack, channel, { from: USER_DIGITS, type: 'video', media: { mimeType: 'video/mp4', size, seed, caption: 'our trip' } });
    // WhatsApp's download stops half-way until released: a service that buffered the media whole would
    // send the client nothing before that.
    const hold = simulatorOf(stack).state.holdMedia(mediaId!, half);
    const baseline = await liveArrayBuffers();
    const response = await client().path('/messages/streams/{id}', mediaId!).get().asNodeStream();
    expect(response.status).toBe('200');
    expect(response.headers['content-type']).toBe('video/mp4');
    expect(response.headers['content-length']).toBe(String(size));
    expect(response.request.headers.get('accept')).toBe('application/json');
    const hash = createHash('sha256');
    let bytes = 0;
    const reading = (async () => {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
    })();
    await hold.reached;
    await eventually(() => (bytes === half ? true : undefined), 20_000, 'the first half reaching the client');
    // Everything WhatsApp sent so far is with the client: what is still alive anywhere in this process
    // (simulator, host, function, client) is buffers, not the media.
    const halfWay = (await liveArrayBuffers()) - baseline;
    hold.release();
    await reading;
    expect(bytes).toBe(size);
    expect(hash.digest('hex')).toBe(generatedMediaSha256(seed, size));
    expect(halfWay).toBeLessThan(8 * 1024 * 1024);
  });

  it('another resource cannot fetch the media; an unknown id is a 404 with x-ms-error-code', async () => {
    const { mediaId } = await inject(stack, channel, { from: USER_DIGITS, type: 'image', media: { mimeType: 'image/png', base64: Buffer.from('not yours').toString('base64') } });
    const other = await stack.createResource('messages-sdk-other', 'Europe');
    await registerChannel(stack, other);
    const theirs = await messagesClient(stack, other).path('/messages/streams/{id}', mediaId!).get();
    expect(theirs.status).toBe('404');
    expect(theirs.headers['x-ms-error-code']).toBe('NotFound');
    const unknown = await client().path('/messages/streams/{id}', '999999').get();
    expect(unknown.status).toBe('404');
    expect(unknown.body).toMatchObject({ error: { code: 'NotFound', target: 'id' } });
  });
});
