import { randomBytes, randomUUID } from 'node:crypto';
import { LOCAL_ACCESS_TOKEN_SETTING, LOCAL_APP_SECRET_SETTING } from './embedded-whatsapp.js';
import type { WhatsAppCloudSimulator } from './simulator.js';

/**
 * `npm start`'s demo WhatsApp channel: registered for the demo resource through the management API
 * (on the simulator's token and app secret settings), and subscribed to by the simulator through
 * the webhook handshake, as WhatsApp's dashboard does. Returns the lines to print.
 */
export const DEMO_PHONE_NUMBER_ID = '100000000000001';
export const DEMO_BUSINESS_ACCOUNT_ID = '200000000000001';

export async function registerDemoChannel(options: { httpUrl: string; managementKey: string; resourceName: string; simulator: WhatsAppCloudSimulator }): Promise<string[]> {
  const channelId = randomUUID();
  const verifyToken = randomBytes(12).toString('hex');
  const response = await fetch(`${options.httpUrl}/api/management/resources/${encodeURIComponent(options.resourceName)}/channels/${channelId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${options.managementKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumberId: DEMO_PHONE_NUMBER_ID, businessAccountId: DEMO_BUSINESS_ACCOUNT_ID, accessTokenSetting: LOCAL_ACCESS_TOKEN_SETTING, appSecretSetting: LOCAL_APP_SECRET_SETTING, webhookVerifyToken: verifyToken }),
  });
  const channel = (await response.json()) as { webhookUrl?: string; error?: { message: string } };
  if (!response.ok || !channel.webhookUrl) return [`  No demo WhatsApp channel: ${channel.error?.message ?? response.status}`];
  const subscribed = await fetch(`${options.simulator.url}/api/webhooks/${DEMO_PHONE_NUMBER_ID}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: channel.webhookUrl, verifyToken, businessAccountId: DEMO_BUSINESS_ACCOUNT_ID }),
  });
  return [
    `  Demo WhatsApp channel ${channelId} (phone number id ${DEMO_PHONE_NUMBER_ID})${subscribed.ok ? '' : ' - the simulator could not subscribe its webhook'}`,
    `  A user writes to it: curl -X POST ${options.simulator.url}/api/inbound -H 'content-type: application/json' -d '{"phoneNumberId": "${DEMO_PHONE_NUMBER_ID}", "from": "14255550123", "text": "Hi"}'`,
  ];
}
