import { randomBytes, randomUUID } from 'node:crypto';
import * as messagesPackage from '@azure-rest/communication-messages';
import { BlobServiceClient } from '@azure/storage-blob';
import { webhookSignature } from '../../shared/whatsapp/webhook-signature.js';
import { cosmosOf } from './sms.js';
import { LOCAL_ACCESS_TOKEN_SETTING, LOCAL_APP_SECRET_SETTING } from '../../local/whatsapp-cloud/embedded-whatsapp.js';
import type { WhatsAppCloudSimulator } from '../../local/whatsapp-cloud/simulator.js';
import { trustDevCertificate } from './sdk-options.js';
import type { ResourceView, TestStack } from './test-stack.js';

/** Helpers for the Advanced Messaging tests: channels, the official client, the embedded WhatsApp simulator. */

export interface TestChannel {
  id: string;
  phoneNumberId: string;
  businessAccountId: string;
  verifyToken: string;
  webhookUrl: string;
}

let counter = 0;
const graphId = (prefix: number) => String(prefix * 1_000_000_000_000 + Date.now() % 1_000_000_000 * 1000 + (counter++ % 1000));

export function simulatorOf(stack: TestStack): WhatsAppCloudSimulator {
  if (!stack.whatsApp) throw new Error('the stack has no embedded WhatsApp simulator');
  return stack.whatsApp;
}

/** Registers a channel on the simulator's settings and subscribes the simulator's webhook to it (the handshake included). */
export async function registerChannel(stack: TestStack, resource: ResourceView, options: { subscribe?: boolean } = {}): Promise<TestChannel> {
  const channel = { id: randomUUID(), phoneNumberId: graphId(1), businessAccountId: graphId(2), verifyToken: randomBytes(16).toString('hex') };
  const response = await stack.management('PUT', `/api/management/resources/${resource.name}/channels/${channel.id}`, {
    phoneNumberId: channel.phoneNumberId,
    businessAccountId: channel.businessAccountId,
    accessTokenSetting: LOCAL_ACCESS_TOKEN_SETTING,
    appSecretSetting: LOCAL_APP_SECRET_SETTING,
    webhookVerifyToken: channel.verifyToken,
  });
  if (response.status !== 201) throw new Error(`channel: ${response.status} ${response.text}`);
  const registered = { ...channel, webhookUrl: response.body.webhookUrl as string };
  if (options.subscribe ?? true) await subscribe(stack, registered);
  return registered;
}

/** What WhatsApp's dashboard does when the callback URL is saved: the handshake, then the subscription. */
export async function subscribe(stack: TestStack, channel: TestChannel): Promise<Response> {
  const response = await fetch(`${simulatorOf(stack).url}/api/webhooks/${channel.phoneNumberId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: channel.webhookUrl, verifyToken: channel.verifyToken, businessAccountId: channel.businessAccountId, displayPhoneNumber: '15550001111' }),
  });
  if (response.status !== 200) throw new Error(`subscribe: ${response.status} ${await response.text()}`);
  return response;
}

/** A user sends a message to the channel's number (the simulator posts the webhook). */
export async function inject(stack: TestStack, channel: TestChannel, message: Record<string, unknown>): Promise<{ messageId: string; mediaId?: string; deliveries: string[] }> {
  const response = await fetch(`${simulatorOf(stack).url}/api/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumberId: channel.phoneNumberId, ...message }),
  });
  if (response.status !== 202) throw new Error(`inject: ${response.status} ${await response.text()}`);
  return (await response.json()) as { messageId: string; mediaId?: string; deliveries: string[] };
}

/** Posts every delivered webhook notification again (WhatsApp's duplicate deliveries). */
export async function redeliverAll(stack: TestStack): Promise<{ redelivered: number; statuses: number[] }> {
  const response = await fetch(`${simulatorOf(stack).url}/api/deliveries/redeliver`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return (await response.json()) as { redelivered: number; statuses: number[] };
}

export async function simulatorPut(stack: TestStack, path: string, body: unknown): Promise<number> {
  const response = await fetch(`${simulatorOf(stack).url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await response.arrayBuffer();
  return response.status;
}

/** The official Advanced Messaging client (@azure-rest/communication-messages 2.0), over HTTPS, as an application builds it. */
type CreateClient = (typeof messagesPackage)['default'] extends infer D ? (D extends (...args: never[]) => unknown ? D : D extends { default: infer F } ? F : never) : never;

/**
 * The package's default export, `createClient`. It is a CommonJS module (`exports.default`): Node's
 * ESM import gives module.exports (so `.default` is the function), vitest's interop the function.
 */
export const createMessagesClient: CreateClient = ((pkg: unknown) => {
  const candidate = (pkg as { default?: unknown }).default;
  return (typeof candidate === 'function' ? candidate : (candidate as { default: unknown }).default) as CreateClient;
})(messagesPackage);

/** Client options against the test stack: its certificate trusted, no retries (so a test sees every answer). */
export const messagesOptions = (stack: TestStack) => ({ ...trustDevCertificate(stack), retryOptions: { maxRetries: 0 } }) as never;

export const messagesClient = (stack: TestStack, resource: ResourceView) => createMessagesClient(resource.connectionString, messagesOptions(stack));

/** Every Cosmos item of every database (as `{database}/{container}` and the item), for before/after comparisons and content scans. */
export async function allItems(stack: TestStack): Promise<{ where: string; item: Record<string, any> }[]> {
  const cosmos = cosmosOf(stack);
  const found: { where: string; item: Record<string, any> }[] = [];
  for (const { id: database } of (await cosmos.databases.readAll().fetchAll()).resources) {
    for (const { id: container } of (await cosmos.database(database).containers.readAll().fetchAll()).resources) {
      const { resources } = await cosmos.database(database).container(container).items.readAll<Record<string, any>>().fetchAll();
      for (const item of resources) found.push({ where: `${database}/${container}`, item });
    }
  }
  return found;
}

/** Every blob of every container: where, name, metadata and content. */
export async function allBlobs(stack: TestStack): Promise<{ where: string; name: string; content: Buffer; metadata: Record<string, string> }[]> {
  const blobs = BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString);
  const found: { where: string; name: string; content: Buffer; metadata: Record<string, string> }[] = [];
  for await (const container of blobs.listContainers()) {
    const client = blobs.getContainerClient(container.name);
    for await (const blob of client.listBlobsFlat({ includeMetadata: true, includeUncommitedBlobs: true })) {
      const content = await client.getBlobClient(blob.name).downloadToBuffer().catch(() => Buffer.alloc(0));
      found.push({ where: container.name, name: blob.name, content, metadata: blob.metadata ?? {} });
    }
  }
  return found;
}

/** A webhook notification signed as WhatsApp signs it (with the simulator's app secret unless another is given). */
export async function postWebhook(stack: TestStack, channel: TestChannel, body: string, options: { secret?: string; signature?: string | null; url?: string } = {}): Promise<Response> {
  const secret = options.secret ?? stack.env[LOCAL_APP_SECRET_SETTING]!;
  const signature = options.signature === undefined ? webhookSignature(body, secret) : options.signature;
  return fetch((options.url ?? channel.webhookUrl).replace(stack.httpsUrl, stack.httpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature !== null ? { 'x-hub-signature-256': signature } : {}) },
    body,
  });
}

/** A notification of the channel's phone number carrying `value` (messages or statuses). */
export const notification = (channel: TestChannel, value: Record<string, unknown>, overrides: { businessAccountId?: string; phoneNumberId?: string } = {}) =>
  JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: overrides.businessAccountId ?? channel.businessAccountId,
        changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: overrides.phoneNumberId ?? channel.phoneNumberId }, ...value } }],
      },
    ],
  });
