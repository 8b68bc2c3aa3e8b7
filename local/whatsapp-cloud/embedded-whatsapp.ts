import { randomBytes } from 'node:crypto';
import { WhatsAppCloudSimulator } from './simulator.js';

/**
 * The WhatsApp Cloud API simulator as the local stack runs it (when WHATSAPP_API_BASE_URL is not
 * set): its Graph API becomes the app's upstream, and the access token and app secret it takes are
 * written into the app's settings under the names a local channel refers to:
 *
 *   WHATSAPP_API_BASE_URL          the simulator's Graph API (http://127.0.0.1:{port}/v21.0)
 *   WHATSAPP_LOCAL_ACCESS_TOKEN    the token it accepts (a channel's accessTokenSetting)
 *   WHATSAPP_LOCAL_APP_SECRET      the secret it signs webhooks with (a channel's appSecretSetting)
 *
 *   LOCAL_WHATSAPP_STATUS_DELAY_MS     delay between the statuses of a sent message (default 100)
 *   LOCAL_WHATSAPP_FAILING_NUMBERS     comma-separated numbers whose messages are reported failed
 */
export const LOCAL_ACCESS_TOKEN_SETTING = 'WHATSAPP_LOCAL_ACCESS_TOKEN';
export const LOCAL_APP_SECRET_SETTING = 'WHATSAPP_LOCAL_APP_SECRET';

export async function startEmbeddedWhatsApp(env: Record<string, string | undefined>, options: { port: number; ca?: string; log?: (line: string) => void }): Promise<WhatsAppCloudSimulator> {
  const accessToken = env[LOCAL_ACCESS_TOKEN_SETTING]?.trim() || `EAAL${randomBytes(48).toString('base64url')}`;
  const appSecret = env[LOCAL_APP_SECRET_SETTING]?.trim() || randomBytes(16).toString('hex');
  const simulator = new WhatsAppCloudSimulator({
    port: options.port,
    accessToken,
    appSecret,
    statusDelayMs: Number(env.LOCAL_WHATSAPP_STATUS_DELAY_MS || 100),
    failingNumbers: (env.LOCAL_WHATSAPP_FAILING_NUMBERS ?? '').split(',').map((n) => n.trim()).filter((n) => n !== ''),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  await simulator.start();
  env.WHATSAPP_API_BASE_URL = simulator.graphUrl;
  env[LOCAL_ACCESS_TOKEN_SETTING] = accessToken;
  env[LOCAL_APP_SECRET_SETTING] = appSecret;
  return simulator;
}
