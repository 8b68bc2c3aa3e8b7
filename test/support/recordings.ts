import { randomBytes } from 'node:crypto';
import { CosmosClient, type Container } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { expect } from 'vitest';
import type { Clock } from '../../shared/clock.js';
import type { ResourceView, TestResponse, TestStack } from './test-stack.js';

/** Builds and sends recording uploads as a client would: multipart/form-data, HMAC-signed. */

export interface RecordingMetadata {
  callId: string;
  startTime: string;
  durationMs: number;
  participants: unknown[];
  channelType: string;
  contentType?: string;
  format?: string;
  sessionEndReason?: string;
}

export const aliceId = (resourceId: string) => `8:acs:${resourceId}_00000000-0000-0000-0000-0000000a11ce`;

export function sampleMetadata(resourceId: string, overrides: Partial<RecordingMetadata> = {}): RecordingMetadata {
  return {
    callId: 'aHR0cHM6Ly9jYWxsLmV4YW1wbGUvY2FsbC8xMjM',
    startTime: '2026-11-21T09:00:00Z',
    durationMs: 6620,
    participants: [{ communicationUser: { id: aliceId(resourceId) } }, { phoneNumber: { value: '+14255550123' } }],
    channelType: 'Mixed',
    ...overrides,
  };
}

/** Serialises a multipart body exactly as fetch would send it (so it can be signed first). */
export async function multipartBody(parts: {
  metadata?: unknown;
  metadataText?: string;
  /** Send the metadata as a file part (what `curl -F metadata=@meta.json` does). */
  metadataAsFile?: boolean;
  content?: Buffer;
  mediaType?: string;
  extra?: [string, string][];
}): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  if (parts.metadata !== undefined || parts.metadataText !== undefined) {
    const text = parts.metadataText ?? JSON.stringify(parts.metadata);
    if (parts.metadataAsFile) form.append('metadata', new Blob([text], { type: 'application/json' }), 'meta.json');
    else form.append('metadata', text);
  }
  if (parts.content) form.append('content', new Blob([parts.content], { type: parts.mediaType ?? 'audio/wav' }), 'call.wav');
  for (const [name, value] of parts.extra ?? []) form.append(name, value);
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { body: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type')! };
}

export function audio(bytes: number): Buffer {
  return randomBytes(bytes);
}

export async function uploadRecording(
  stack: TestStack,
  resource: ResourceView,
  options: { metadata?: unknown; content?: Buffer; mediaType?: string; date?: Date; headers?: Record<string, string>; tamper?: boolean },
): Promise<TestResponse> {
  const { body, contentType } = await multipartBody({ metadata: options.metadata ?? sampleMetadata(resource.id), content: options.content ?? audio(1024), mediaType: options.mediaType });
  // One byte of the content flipped (replacing it with a fixed byte left it unchanged when the random content had that byte there).
  const sendBody = options.tamper ? Buffer.from(body) : undefined;
  if (sendBody) sendBody[sendBody.length - 60]! ^= 0xff;
  return stack.signed({
    method: 'POST',
    endpoint: resource.endpoint,
    path: '/recordings',
    key: resource.primaryKey,
    body,
    ...(sendBody ? { sendBody } : {}),
    contentType,
    date: options.date,
    headers: options.headers,
  });
}

/** A signed GET/HEAD/DELETE of one of a recording's locations. */
export function atLocation(stack: TestStack, resource: ResourceView, method: string, location: string, options: { date?: Date; headers?: Record<string, string> } = {}): Promise<TestResponse> {
  const url = new URL(location);
  return stack.signed({ method, endpoint: resource.endpoint, path: url.pathname + url.search, key: resource.primaryKey, date: options.date, headers: options.headers });
}

export type RecordingEvent = { id: string; type: string; subject: string; data: Record<string, any> };

/** What the recording tests ask of the stack: uploads, the events and audit records of a recording, the purge. */
export class RecordingFixture {
  constructor(
    private readonly stack: () => TestStack,
    private readonly clock: Clock,
  ) {}

  eventsOf(recordingId: string): RecordingEvent[] {
    return this.stack()
      .topic!.received()
      .map((r) => r.event as unknown as RecordingEvent)
      .filter((e) => e.subject.endsWith(`/recordingId/${recordingId}`));
  }

  blobs(): BlobServiceClient {
    return BlobServiceClient.fromConnectionString(this.stack().stores.storageConnectionString);
  }

  /** Runs the purge timer now, through the host's admin endpoint, and waits until its work items are done. */
  async purge(): Promise<Response> {
    const response = await fetch(`${this.stack().httpUrl}/admin/functions/recordingPurge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await this.stack().idle();
    return response;
  }

  async uploaded(resource: ResourceView, content = audio(300_000), metadata?: unknown): Promise<{ view: Record<string, any>; content: Buffer }> {
    const response = await uploadRecording(this.stack(), resource, { content, metadata, date: this.clock.now() });
    expect(response.status, response.text).toBe(201);
    return { view: response.body as Record<string, any>, content };
  }

  /** A Cosmos container of a geography, straight from the emulator. */
  cosmosContainer(name: string, geography = 'europe'): Container {
    const { cosmosEndpoint, cosmosKey } = this.stack().stores;
    const cosmos = new CosmosClient({ endpoint: cosmosEndpoint, key: cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
    return cosmos.database(`acs-${geography}`).container(name);
  }

  /** The resource's items in the geography's Cosmos container `recordings` (every kind). */
  async recordingItems(resourceId: string, geography = 'europe'): Promise<Record<string, any>[]> {
    const { resources } = await this.cosmosContainer('recordings', geography)
      .items.query({ query: 'SELECT * FROM c WHERE c.resourceId = @r', parameters: [{ name: '@r', value: resourceId }] }, { partitionKey: resourceId })
      .fetchAll();
    return resources;
  }

  /**
   * The resource's blobs in the geography's recordings container: committed ones, or with
   * `uncommitted` also blobs that only have staged (uncommitted) blocks.
   */
  async recordingBlobs(resourceId: string, options: { uncommitted?: boolean; geography?: string } = {}): Promise<{ name: string; contentLength?: number; etag?: string }[]> {
    const container = this.blobs().getContainerClient(`acs-${options.geography ?? 'europe'}-recordings`);
    const found: { name: string; contentLength?: number; etag?: string }[] = [];
    if (!(await container.exists())) return found;
    for await (const blob of container.listBlobsFlat({ prefix: `${resourceId}/`, includeUncommitedBlobs: options.uncommitted ?? false })) {
      found.push({ name: blob.name, contentLength: blob.properties.contentLength, etag: blob.properties.etag });
    }
    return found;
  }

  async auditRecordsOf(resourceId: string, subjectId: string, geography = 'europe'): Promise<Record<string, unknown>[]> {
    const { cosmosEndpoint, cosmosKey } = this.stack().stores;
    const cosmos = new CosmosClient({ endpoint: cosmosEndpoint, key: cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
    const { resources } = await cosmos
      .database(`acs-${geography}`)
      .container('auditRecords')
      .items.query({ query: 'SELECT * FROM c WHERE c.subjectId = @s', parameters: [{ name: '@s', value: subjectId }] }, { partitionKey: resourceId })
      .fetchAll();
    return resources;
  }
}

/**
 * The storage account's BlobCreated event for a landing blob, delivered to recordingLanding through the
 * dev host's Event Grid webhook, as the infrastructure's subscription would deliver it.
 */
export function deliverBlobCreated(stack: TestStack, blob: { id: string; subjectPath: string; url: string; etag?: string }): Promise<Response> {
  const event = {
    id: blob.id,
    topic: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/devstoreaccount1',
    subject: `/blobServices/default/containers/${blob.subjectPath}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    eventTime: new Date().toISOString(),
    data: { api: 'PutBlob', ...(blob.etag ? { eTag: blob.etag } : {}), contentType: 'audio/wav', blobType: 'BlockBlob', url: blob.url },
    dataVersion: '',
    metadataVersion: '1',
  };
  return fetch(`${stack.httpUrl}/runtime/webhooks/eventgrid?functionName=recordingLanding`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
    body: JSON.stringify([event]),
  });
}
