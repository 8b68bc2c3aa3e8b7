import { EmailClient, type EmailMessage } from '@azure/communication-email';
import { trustDevCertificate } from './sdk-options.js';
import type { ResourceView, TestResponse, TestStack } from './test-stack.js';

/** Helpers of the e-mail tests: senders through the management API, the official client, the relay, the scheduler. */

/** Queue settings for e-mail tests: the delivery worker polls often, and a failed item comes back after a second. */
export const EMAIL_TEST_QUEUES = { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:01', batchSize: 16 };

/** Settings for e-mail tests: the SDK polls every second; rate limits off unless a test asks for them. */
export const EMAIL_TEST_ENV = { EMAIL_STATUS_RETRY_AFTER_SECONDS: '1', EMAIL_RATE_LIMIT_FACTOR: '0' };

export const VERIFIED = { Domain: 'Verified', SPF: 'Verified', DKIM: 'Verified', DKIM2: 'Verified' };

/** A verified domain with one sender username; returns the sender address. */
export async function configureSender(stack: TestStack, resource: ResourceView, options: { domain?: string; username?: string; displayName?: string } = {}): Promise<string> {
  const domain = options.domain ?? 'contoso.example';
  const username = options.username ?? 'DoNotReply';
  const base = `/api/management/resources/${resource.name}/emailDomains/${domain}`;
  const put = await stack.management('PUT', base, { verificationStates: VERIFIED });
  if (put.status !== 201 && put.status !== 200) throw new Error(`domain: ${put.status} ${put.text}`);
  const sender = await stack.management('PUT', `${base}/senderUsernames/${username}`, { displayName: options.displayName ?? 'Contoso Notifications' });
  if (sender.status !== 201 && sender.status !== 200) throw new Error(`sender: ${sender.status} ${sender.text}`);
  return `${username}@${domain}`;
}

export function emailClient(stack: TestStack, resource: ResourceView): EmailClient {
  return new EmailClient(resource.connectionString, trustDevCertificate(stack) as never);
}

/** A minimal message from `sender` to `to`. */
export function simpleMessage(sender: string, to: string[], subject = 'Hello'): EmailMessage {
  return { senderAddress: sender, content: { subject, plainText: `Body of ${subject}` }, recipients: { to: to.map((address) => ({ address })) } };
}

/** `POST emails:send` signed with the resource key (for what the SDK would retry or refuse to send). */
export function sendRaw(stack: TestStack, resource: ResourceView, body: unknown, headers: Record<string, string> = {}, date?: Date): Promise<TestResponse> {
  return stack.signed({
    method: 'POST',
    endpoint: resource.endpoint,
    path: '/emails:send?api-version=2025-09-01',
    key: resource.primaryKey,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers,
    ...(date ? { date } : {}),
  });
}

export function operationStatus(stack: TestStack, resource: ResourceView, id: string, date?: Date): Promise<TestResponse> {
  return stack.signed({ method: 'GET', endpoint: resource.endpoint, path: `/emails/operations/${id}?api-version=2025-09-01`, key: resource.primaryKey, ...(date ? { date } : {}) });
}

/** Runs a non-HTTP function now (the scheduler timer, the retention purge), as `POST /admin/functions/{name}`. */
export async function runFunction(stack: TestStack, name: string): Promise<void> {
  const response = await fetch(`${stack.httpUrl}/admin/functions/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (response.status !== 202) throw new Error(`${name}: ${response.status}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Polls the operation (signed requests, at the test's clock) until it has a terminal status. */
export async function finished(stack: TestStack, resource: ResourceView, id: string, date?: () => Date, timeoutMs = 30_000): Promise<Record<string, any>> {
  return until(
    async () => {
      const response = await operationStatus(stack, resource, id, date?.());
      const status = response.body?.status as string | undefined;
      return status === 'Succeeded' || status === 'Failed' || status === 'Canceled' ? (response.body as Record<string, any>) : undefined;
    },
    timeoutMs,
    `operation ${id} to finish`,
  );
}

/** What the resource's geography holds of e-mail: operations, content blobs and suppression entries (ids and names). */
export async function storedEmail(resource: ResourceView): Promise<{ operations: Record<string, any>[]; contentBlobs: string[]; suppressions: Record<string, any>[] }> {
  const { services } = await import('../../shared/services.js');
  const { findGeography } = await import('../../shared/geography/geographies.js');
  const geo = services().stores.forGeography(findGeography(resource.geography)!);
  const query = async (name: 'emailOperations' | 'emailSuppressions') => {
    const container = await geo.container(name);
    const { resources } = await container.items
      .query<Record<string, any>>({ query: 'SELECT * FROM c WHERE c.resourceId = @rid', parameters: [{ name: '@rid', value: resource.id }] }, { partitionKey: resource.id })
      .fetchAll();
    return resources;
  };
  const blobs = await geo.blobContainer('email-content');
  const contentBlobs: string[] = [];
  for await (const blob of blobs.listBlobsFlat({ prefix: `${resource.id}/` })) contentBlobs.push(blob.name);
  return { operations: await query('emailOperations'), contentBlobs, suppressions: await query('emailSuppressions') };
}
