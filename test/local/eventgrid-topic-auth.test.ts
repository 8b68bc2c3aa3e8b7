import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { TokenCredential } from '@azure/core-auth';
import { AzureKeyCredential, EventGridPublisherClient, type SendCloudEventInput } from '@azure/eventgrid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventGridTopic } from '../../local/eventgrid-topic/topic-server.js';
import { loadOrCreateCertificate } from '../../local/tls-certificate.js';
import { EmulatorCredential } from '../support/emulator-credential.js';

/**
 * The local topic's publish authorization with the real EventGridPublisherClient: the topic key, or a
 * Microsoft Entra token for https://eventgrid.azure.net over HTTPS (the client sends tokens over HTTPS
 * only), each publish recorded with how it was authorized.
 */

const KEY = 'local-test-key';
let topic: LocalEventGridTopic;
let ca: string[];

beforeAll(async () => {
  const tls = await loadOrCreateCertificate(join(tmpdir(), `acs-residency-topic-certs-${process.pid}`));
  ca = [...rootCertificates, tls.cert];
  topic = new LocalEventGridTopic({ key: KEY, tls });
  await topic.start();
});
afterAll(async () => {
  await topic?.stop();
  topic?.dispose();
});

const client = (credential: TokenCredential | AzureKeyCredential) =>
  new EventGridPublisherClient(topic.endpoint, 'CloudEvent', credential, { tlsOptions: { ca }, retryOptions: { maxRetries: 0 } });
const event = (id: string): SendCloudEventInput<unknown> => ({ id, type: 'Acs.Residency.Booked', source: '/acs/residency', data: { id } });

describe('LocalEventGridTopic publish authorization', () => {
  it('serves HTTPS and accepts a bearer token for Event Grid, recorded with its token id; the key still works and is recorded as the key', async () => {
    topic.clear();
    expect(topic.endpoint.startsWith('https://127.0.0.1:')).toBe(true);
    const credential = new EmulatorCredential();
    await client(credential).send([event('bearer-1'), event('bearer-2')]);
    await client(new AzureKeyCredential(KEY)).send([event('key-1')]);

    expect(topic.received().map((r) => r.event['id'])).toEqual(['bearer-1', 'bearer-2', 'key-1']);
    const [minted] = [...credential.tokenIds('https://eventgrid.azure.net')];
    expect(topic.publishes()).toEqual([
      { authorization: { via: 'bearer', audience: 'https://eventgrid.azure.net', tokenId: minted }, events: 2 },
      { authorization: { via: 'key' }, events: 1 },
    ]);
  });

  it('refuses expired tokens, tokens for another audience and a wrong key with 401, and stores nothing', async () => {
    topic.clear();
    const refused = [new EmulatorCredential({ expired: true }), new EmulatorCredential({ audience: 'https://storage.azure.com' }), new AzureKeyCredential('wrong-key')];
    for (const credential of refused) await expect(client(credential).send([event('refused')])).rejects.toMatchObject({ statusCode: 401 });
    expect([topic.received(), topic.publishes()]).toEqual([[], []]);

    const raw = await fetch(topic.endpoint.replace('https:', 'http:'), { method: 'POST' }).catch((error: unknown) => error);
    expect(raw).toBeInstanceOf(Error); // the HTTPS listener does not speak plain HTTP
  });
});
