import { randomBytes, randomUUID } from 'node:crypto';
import MessageClient from '@azure-rest/communication-messages';
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
export const messagesClient = (stack: TestStack, resource: ResourceView) => MessageClient(resource.connectionString, { ...trustDevCertificate(stack), retryOptions: { maxRetries: 0 } });
