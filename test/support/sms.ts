import { PhoneNumbersClient, type SearchAvailablePhoneNumbersRequest } from '@azure/communication-phone-numbers';
import { SmsClient } from '@azure/communication-sms';
import { CosmosClient } from '@azure/cosmos';
import type { SubmittedPdu, InjectedMessage } from '../../local/smsc/smsc.js';
import { trustDevCertificate } from './sdk-options.js';
import type { ResourceView, TestStack } from './test-stack.js';

/** Poll the SDKs' long-running operations every 50 ms (the option exists at run time, not in the public option types). */
export const FAST_POLL = { updateIntervalInMs: 50 } as object;

/** Helpers for the phone number and SMS tests: the pool import, the official clients, the embedded SMSC and the stores. */

export interface PoolEntry {
  phoneNumber: string;
  countryCode: string;
  phoneNumberType: 'geographic' | 'tollFree' | 'mobile';
  assignmentType: 'person' | 'application';
  capabilities: { calling: string; sms: string };
  carrier?: string;
  areaCode?: string;
  locality?: string;
  administrativeDivision?: { localizedName: string; abbreviatedName: string };
  cost?: { amount: number; currencyCode: string; billingFrequency?: 'monthly' };
}

export const tollFree = (phoneNumber: string, extra: Partial<PoolEntry> = {}): PoolEntry => ({
  phoneNumber,
  countryCode: 'US',
  phoneNumberType: 'tollFree',
  assignmentType: 'application',
  capabilities: { calling: 'none', sms: 'inbound+outbound' },
  ...extra,
});

export async function importNumbers(stack: TestStack, geography: string, numbers: PoolEntry[]): Promise<{ created: string[]; updated: string[]; skipped: { phoneNumber: string; reason: string }[] }> {
  const response = await stack.management('POST', `/api/management/numberPools/${geography}/numbers`, { numbers });
  if (response.status !== 200) throw new Error(`import: ${response.status} ${response.text}`);
  return response.body;
}

export async function pool(stack: TestStack, geography: string): Promise<Record<string, any>[]> {
  const response = await stack.management('GET', `/api/management/numberPools/${geography}/numbers`);
  if (response.status !== 200) throw new Error(`pool: ${response.status} ${response.text}`);
  return response.body.value;
}

export const phoneNumbersClient = (stack: TestStack, resource: ResourceView) => new PhoneNumbersClient(resource.connectionString, trustDevCertificate(stack) as never);
export const smsClient = (stack: TestStack, resource: ResourceView) => new SmsClient(resource.connectionString, trustDevCertificate(stack) as never);

/** Searches and purchases numbers with the official client, each operation polled to the end; returns the numbers. */
export async function buyNumbers(stack: TestStack, resource: ResourceView, search: Omit<SearchAvailablePhoneNumbersRequest, 'capabilities'> & { capabilities?: SearchAvailablePhoneNumbersRequest['capabilities'] }): Promise<string[]> {
  const client = phoneNumbersClient(stack, resource);
  const searchPoller = await client.beginSearchAvailablePhoneNumbers({ capabilities: { calling: 'none', sms: 'inbound+outbound' }, ...search } as SearchAvailablePhoneNumbersRequest, FAST_POLL);
  const result = await searchPoller.pollUntilDone();
  const purchasePoller = await client.beginPurchasePhoneNumbers(result.searchId, FAST_POLL);
  await purchasePoller.pollUntilDone();
  return result.phoneNumbers;
}

export function smscOf(stack: TestStack) {
  const smsc = stack.smsc;
  if (!smsc) throw new Error('the stack has no embedded SMSC');
  return {
    server: smsc.server,
    messages: () => smsc.server.submitted as SubmittedPdu[],
    inject: (from: string, to: string, text: string): InjectedMessage => smsc.server.inject({ from, to, text }),
    clear: () => {
      smsc.server.submitted.length = 0;
      smsc.server.injected.length = 0;
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The events the local topic received for a resource, of one type. */
export function eventsOf(stack: TestStack, resourceId: string, type: string): Record<string, any>[] {
  return (stack.topic?.received() ?? []).map((r) => r.event as Record<string, any>).filter((e) => e.source === `/resources/${resourceId}` && e.type === type);
}

export const cosmosOf = (stack: TestStack) => new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });

/** Every item of a container of a geography's database (none when it does not exist yet). */
export async function itemsOf(stack: TestStack, geographyKey: string, container: string): Promise<Record<string, any>[]> {
  try {
    const { resources } = await cosmosOf(stack).database(`acs-${geographyKey}`).container(container).items.readAll<Record<string, any>>().fetchAll();
    return resources;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return [];
    throw error;
  }
}
