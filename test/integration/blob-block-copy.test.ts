import { createHash, randomBytes } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient, type BlockBlobClient, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBlob, type EmbeddedBlob } from '../../local/emulators/azurite-blob.js';
import { loadOrCreateCertificate, type TlsMaterial } from '../../local/tls-certificate.js';
import { copyByBlocks, type BlockCopyOptions } from '../../shared/stores/blob-block-copy.js';
import { copySourceOf } from '../../shared/stores/copy-source.js';
import { EmulatorCredential } from '../support/emulator-credential.js';

/**
 * The landing copy's building block against the real Azurite (in process): a blob copied by staging
 * ranges of it from its URL, with a SAS for the source when the client has the account key and with
 * the app's bearer token (x-ms-copy-source-authorization) when it has a Microsoft Entra credential
 * (HTTPS Azurite with --oauth basic). Azurite's request record shows how each request was authorized.
 */

const MiB = 1024 * 1024;
let keyed: EmbeddedBlob;
let oauth: EmbeddedBlob;
let tls: TlsMaterial;

beforeAll(async () => {
  tls = await loadOrCreateCertificate(join(tmpdir(), `acs-residency-copy-certs-${process.pid}`));
  [keyed, oauth] = await Promise.all([startEmbeddedBlob(0), startEmbeddedBlob(0, { tls })]);
});
afterAll(async () => {
  await keyed?.stop();
  await oauth?.stop();
});

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const trusting = (): StoragePipelineOptions => ({ tlsOptions: { ca: [...rootCertificates, tls.cert] } }) as StoragePipelineOptions;
const keyedService = () => BlobServiceClient.fromConnectionString(keyed.connectionString);
const oauthService = (credential: TokenCredential) => new BlobServiceClient(oauth.accountUrl, credential, trusting());

async function container(service: BlobServiceClient): Promise<ContainerClient> {
  const client = service.getContainerClient(`copy-${randomBytes(4).toString('hex')}`);
  await client.create();
  return client;
}

async function sourceBlob(client: ContainerClient, bytes: number): Promise<{ blob: BlockBlobClient; content: Buffer; etag: string }> {
  const content = randomBytes(bytes);
  const blob = client.getBlockBlobClient('landing/call.wav');
  const { etag } = await blob.upload(content, content.length, { blobHTTPHeaders: { blobContentType: 'audio/wav' } });
  return { blob, content, etag: etag! };
}

const options = (source: BlockBlobClient, etag: string, length: number): BlockCopyOptions => ({
  sourceEtag: etag,
  sourceLength: length,
  blockBytes: MiB,
  concurrency: 2,
  source: () => copySourceOf(source),
  tags: { expiresAt: '2030-01-01T00:00:00.000Z' },
  metadata: { recordingid: 'r-1' },
  headers: { blobContentType: 'audio/wav' },
});

const stagedFromUrl = (blob: EmbeddedBlob, path: string) =>
  blob.requests.filter((r) => r.method === 'PUT' && r.comp === 'block' && r.copiesFromUrl && r.path.endsWith(path));
const sourceReads = (blob: EmbeddedBlob, path: string) => blob.requests.filter((r) => r.userAgent === 'azurite-stage-block-from-url' && r.path.endsWith(path));

describe('with the account key (connection string)', () => {
  it('copies 2.5 MiB in 3 blocks read through a SAS, with tags, metadata and content type', async () => {
    const client = await container(keyedService());
    const { blob, content, etag } = await sourceBlob(client, 2.5 * MiB);
    const target = client.getBlockBlobClient('recordings/r-1');
    const result = await copyByBlocks(blob, target, options(blob, etag, content.length));

    expect(result).toMatchObject({ outcome: 'copied', contentLength: content.length });
    expect(sha(await target.downloadToBuffer())).toBe(sha(content));
    const properties = await target.getProperties();
    expect([properties.contentType, properties.metadata, (await target.getTags()).tags]).toEqual(['audio/wav', { recordingid: 'r-1' }, { expiresAt: '2030-01-01T00:00:00.000Z' }]);
    expect(stagedFromUrl(keyed, `/${client.containerName}/recordings/r-1`).map((r) => r.authorization)).toEqual(['sharedKey', 'sharedKey', 'sharedKey']);
    expect(sourceReads(keyed, `/${client.containerName}/landing/call.wav`).map((r) => r.authorization)).toEqual(['sas', 'sas', 'sas']);
  });

  it('a source overwritten since its ETag was read: sourceChanged, nothing committed', async () => {
    const client = await container(keyedService());
    const { blob, etag } = await sourceBlob(client, 1.5 * MiB);
    await blob.upload(Buffer.from('newer'), 5);
    const target = client.getBlockBlobClient('recordings/r-1');
    expect(await copyByBlocks(blob, target, options(blob, etag, 1.5 * MiB))).toEqual({ outcome: 'sourceChanged' });
    expect(await target.exists()).toBe(false);
  });

  it('a source deleted before the copy: sourceGone, nothing committed', async () => {
    const client = await container(keyedService());
    const { blob, etag } = await sourceBlob(client, 1000);
    await blob.delete();
    const target = client.getBlockBlobClient('recordings/r-1');
    expect(await copyByBlocks(blob, target, options(blob, etag, 1000))).toEqual({ outcome: 'sourceGone' });
    expect(await target.exists()).toBe(false);
  });

  it('two copies of one source to one target at once: one blob, both answer with it', async () => {
    const client = await container(keyedService());
    const { blob, content, etag } = await sourceBlob(client, 2.5 * MiB);
    const target = client.getBlockBlobClient('recordings/r-1');
    const [a, b] = await Promise.all([copyByBlocks(blob, target, options(blob, etag, content.length)), copyByBlocks(blob, target, options(blob, etag, content.length))]);
    const stored = await target.getProperties();
    expect([a, b]).toEqual([
      { outcome: 'copied', etag: stored.etag, contentLength: content.length },
      { outcome: 'copied', etag: stored.etag, contentLength: content.length },
    ]);
    expect(sha(await target.downloadToBuffer())).toBe(sha(content));
  });

  it('Azurite refuses a Put Block From URL whose source is not authorized (no SAS, no token)', async () => {
    const client = await container(keyedService());
    const { blob } = await sourceBlob(client, 1000);
    const target = client.getBlockBlobClient('recordings/r-1');
    await expect(target.stageBlockFromURL(Buffer.from('block-0').toString('base64'), blob.url, 0, 1000)).rejects.toMatchObject({ statusCode: 403, code: 'CannotVerifyCopySource' });
  });
});

describe('with a Microsoft Entra credential (HTTPS Azurite, --oauth basic)', () => {
  it('copies with bearer tokens only: the requests and the source reads carry tokens this credential minted for storage', async () => {
    const credential = new EmulatorCredential();
    const client = await container(oauthService(credential));
    const { blob, content, etag } = await sourceBlob(client, 2.5 * MiB);
    const target = client.getBlockBlobClient('recordings/r-1');
    expect(await copyByBlocks(blob, target, options(blob, etag, content.length))).toMatchObject({ outcome: 'copied', contentLength: content.length });
    expect(sha(await target.downloadToBuffer())).toBe(sha(content));

    const minted = credential.tokenIds('https://storage.azure.com');
    const mine = oauth.requests.filter((r) => r.path.startsWith(`/devstoreaccount1/${client.containerName}`));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.authorization === 'bearer' && minted.has(r.token!.tokenId!))).toBe(true);
    const staged = stagedFromUrl(oauth, `/${client.containerName}/recordings/r-1`);
    expect(staged).toHaveLength(3);
    expect(staged.every((r) => r.copySource?.authorization === 'bearer' && r.copySource.token?.audience === 'https://storage.azure.com' && minted.has(r.copySource.token.tokenId!))).toBe(true);
    expect(sourceReads(oauth, `/${client.containerName}/landing/call.wav`).map((r) => r.authorization)).toEqual(['bearer', 'bearer', 'bearer']);
  });

  it('Azurite refuses expired tokens and tokens of another issuer (the credential is what authorizes)', async () => {
    const good = await container(oauthService(new EmulatorCredential()));
    for (const credential of [new EmulatorCredential({ expired: true }), new EmulatorCredential({ issuer: 'https://issuer.example/' })]) {
      const refused = oauthService(credential).getContainerClient(good.containerName);
      await expect(refused.getBlockBlobClient('x').upload('x', 1)).rejects.toMatchObject({ statusCode: 403, code: 'AuthenticationFailed' });
      await expect(refused.getProperties()).rejects.toMatchObject({ statusCode: 403, code: 'AuthenticationFailed' });
    }
    expect(await good.getBlockBlobClient('x').exists()).toBe(false);
  });

  it('Azurite refuses a copy whose source authorization is missing, although the request itself carries a token', async () => {
    const client = await container(oauthService(new EmulatorCredential()));
    const { blob } = await sourceBlob(client, 1000);
    const target = client.getBlockBlobClient('recordings/r-1');
    await expect(target.stageBlockFromURL(Buffer.from('block-0').toString('base64'), blob.url, 0, 1000)).rejects.toMatchObject({ statusCode: 403, code: 'CannotVerifyCopySource' });
  });
});
