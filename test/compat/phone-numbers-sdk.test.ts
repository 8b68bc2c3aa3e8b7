import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buyNumbers, FAST_POLL, eventually, importNumbers, itemsOf, phoneNumbersClient, pool, smscOf, tollFree, type PoolEntry } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * The Phone Numbers API through the official @azure/communication-phone-numbers 1.5 client: the pool
 * import (management API), catalogue, search, purchase, list, get, capability update and release,
 * each long-running operation polled to the end.
 */
let stack: TestStack;
let europe: ResourceView;
let japan: ResourceView;

const GB: PoolEntry[] = ['+442071234001', '+442071234002'].map((phoneNumber) => ({
  phoneNumber,
  countryCode: 'GB',
  phoneNumberType: 'geographic',
  assignmentType: 'person',
  capabilities: { calling: 'inbound+outbound', sms: 'outbound' },
  areaCode: '20',
  locality: 'London',
  administrativeDivision: { localizedName: 'England', abbreviatedName: 'ENG' },
  cost: { amount: 1.5, currencyCode: 'EUR', billingFrequency: 'monthly' },
}));
const US = ['+18005550101', '+18005550102', '+18005550103'].map((n) => tollFree(n, { areaCode: '800', cost: { amount: 2, currencyCode: 'USD' } }));

beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe,Japan' } });
  europe = await stack.createResource('numbers-eu', 'Europe');
  japan = await stack.createResource('numbers-jp', 'Japan');
});
afterAll(async () => stack?.stop());

describe('the pool import (management API)', () => {
  it('imports numbers into a geography pool, updates free ones on a second import, and skips one already pooled elsewhere', async () => {
    expect(await importNumbers(stack, 'Europe', [...GB, ...US])).toEqual({ geography: 'Europe', created: [...GB, ...US].map((n) => n.phoneNumber), updated: [], skipped: [] });
    const again = await importNumbers(stack, 'europe', [{ ...GB[0]!, cost: { amount: 1.75, currencyCode: 'EUR' } }]);
    expect(again).toEqual({ geography: 'Europe', created: [], updated: [GB[0]!.phoneNumber], skipped: [] });
    expect(await importNumbers(stack, 'Japan', [US[0]!, tollFree('+18005550199', { countryCode: 'JP' })])).toEqual({
      geography: 'Japan',
      created: ['+18005550199'],
      updated: [],
      skipped: [{ phoneNumber: US[0]!.phoneNumber, reason: 'in the pool of Europe' }],
    });
    const europePool = await pool(stack, 'Europe');
    expect(europePool.map((n) => [n.phoneNumber, n.status, n.poolGeography])).toEqual([...GB, ...US].map((n) => [n.phoneNumber, 'available', 'europe']).sort());
    expect(europePool.find((n) => n.phoneNumber === GB[0]!.phoneNumber)!.cost).toEqual({ amount: 1.75, currencyCode: 'EUR', billingFrequency: 'monthly' });
    // Stored in Europe's pool only, with no resource id (the pool belongs to the geography).
    const stored = await itemsOf(stack, 'europe', 'phoneNumbers');
    expect(stored.map((i) => i.id).sort()).toEqual([...GB, ...US].map((n) => n.phoneNumber).sort());
    expect(stored.every((i) => i.resourceId === undefined && i.poolGeography === 'europe')).toBe(true);
  });

  it('refuses an invalid number, an unknown carrier and a bad capability, naming the field, and stores nothing', async () => {
    const before = await itemsOf(stack, 'europe', 'phoneNumbers');
    const cases: [Record<string, unknown>, string][] = [
      [{ ...tollFree('+1800'), phoneNumber: '18005550100' }, 'numbers.0.phoneNumber'],
      [tollFree('+18005550777', { carrier: 'other' }), 'numbers.0.carrier'],
      [{ ...tollFree('+18005550777'), capabilities: { calling: 'none', sms: 'both' } }, 'numbers.0.capabilities.sms'],
      [{ ...tollFree('+18005550777'), countryCode: 'usa' }, 'numbers.0.countryCode'],
    ];
    for (const [entry, target] of cases) {
      const response = await stack.management('POST', '/api/management/numberPools/Europe/numbers', { numbers: [entry] });
      expect(response.status, target).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'ValidationError', target });
    }
    expect((await stack.management('POST', '/api/management/numberPools/Atlantis/numbers', { numbers: [tollFree('+18005550777')] })).status).toBe(404);
    expect(await itemsOf(stack, 'europe', 'phoneNumbers')).toEqual(before);
  });
});

describe('the catalogue lists what the pool holds', () => {
  it('countries, localities, offerings and area codes', async () => {
    const client = phoneNumbersClient(stack, europe);
    const countries = [];
    for await (const c of client.listAvailableCountries()) countries.push(c);
    expect(countries).toEqual([
      { countryCode: 'GB', localizedName: 'United Kingdom' },
      { countryCode: 'US', localizedName: 'United States' },
    ]);
    const localities = [];
    for await (const l of client.listAvailableLocalities('GB')) localities.push(l);
    expect(localities).toEqual([{ localizedName: 'London', administrativeDivision: { localizedName: 'England', abbreviatedName: 'ENG' } }]);
    const offerings = [];
    for await (const o of client.listAvailableOfferings('US')) offerings.push(o);
    expect(offerings).toEqual([
      { phoneNumberType: 'tollFree', assignmentType: 'application', availableCapabilities: { calling: 'none', sms: 'inbound+outbound' }, cost: { amount: 2, currencyCode: 'USD', billingFrequency: 'monthly' } },
    ]);
    const codes = [];
    for await (const a of client.listAvailableTollFreeAreaCodes('US')) codes.push(a);
    expect(codes).toEqual([{ areaCode: '800' }]);
    // Japan's resource sees Japan's pool only.
    const japanCountries = [];
    for await (const c of phoneNumbersClient(stack, japan).listAvailableCountries()) japanCountries.push(c);
    expect(japanCountries).toEqual([{ countryCode: 'JP', localizedName: 'Japan' }]);
  });
});

describe('search, purchase, list, get, update capabilities, release', () => {
  let bought: string[] = [];

  it('a search reserves matching numbers; a search for more than are free fails with OutOfStock and reserves nothing', async () => {
    const client = phoneNumbersClient(stack, europe);
    const poller = await client.beginSearchAvailablePhoneNumbers(
      { countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', capabilities: { calling: 'none', sms: 'inbound+outbound' }, quantity: 2 },
      FAST_POLL,
    );
    const result = await poller.pollUntilDone();
    expect(result.phoneNumbers).toEqual(['+18005550101', '+18005550102']);
    expect(result).toMatchObject({ phoneNumberType: 'tollFree', assignmentType: 'application', capabilities: { calling: 'none', sms: 'inbound+outbound' }, cost: { amount: 2, currencyCode: 'USD', billingFrequency: 'monthly' }, isAgreementToNotResellRequired: false });
    const expiresIn = result.searchExpiresBy.getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(14 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(15 * 60_000);
    expect((await pool(stack, 'Europe')).filter((n) => n.status === 'reserved').map((n) => n.phoneNumber)).toEqual(['+18005550101', '+18005550102']);

    const tooMany = async () =>
      (
        await client.beginSearchAvailablePhoneNumbers(
          { countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', capabilities: { calling: 'none', sms: 'outbound' }, quantity: 2 },
          FAST_POLL,
        )
      ).pollUntilDone();
    // The SDK turns a failed operation into an Error with the operation's error code and message.
    await expect(tooMany()).rejects.toThrow('The long-running operation has failed. OutOfStock. The Europe pool has 1 tollFree number(s) in US matching the search (assignment type, capabilities) free; 2 were asked for.');
    expect((await pool(stack, 'Europe')).filter((n) => n.status === 'reserved').map((n) => n.phoneNumber)).toEqual(['+18005550101', '+18005550102']);

    const purchase = await client.beginPurchasePhoneNumbers(result.searchId, FAST_POLL);
    await purchase.pollUntilDone();
    expect(purchase.getOperationState().isCompleted).toBe(true);
    bought = result.phoneNumbers;
    const after = await pool(stack, 'Europe');
    expect(after.filter((n) => n.status === 'assigned').map((n) => [n.phoneNumber, n.assignedResourceId])).toEqual(bought.map((n) => [n, europe.id]));
  });

  it('listPurchasedPhoneNumbers and getPurchasedPhoneNumber answer the resource\'s numbers only', async () => {
    const client = phoneNumbersClient(stack, europe);
    const listed = [];
    for await (const n of client.listPurchasedPhoneNumbers()) listed.push(n);
    expect(listed.map((n) => n.phoneNumber)).toEqual(bought);
    const one = await client.getPurchasedPhoneNumber(bought[0]!);
    expect(one).toMatchObject({
      id: bought[0]!.slice(1),
      phoneNumber: bought[0],
      countryCode: 'US',
      phoneNumberType: 'tollFree',
      assignmentType: 'application',
      capabilities: { calling: 'none', sms: 'inbound+outbound' },
      cost: { amount: 2, currencyCode: 'USD', billingFrequency: 'monthly' },
    });
    expect(Date.now() - one.purchaseDate.getTime()).toBeLessThan(60_000);
    await expect(phoneNumbersClient(stack, japan).getPurchasedPhoneNumber(bought[0]!)).rejects.toMatchObject({ statusCode: 404, code: 'NotFound' });
    await expect(client.getPurchasedPhoneNumber('+18005550103')).rejects.toMatchObject({ statusCode: 404 });
    const japanListed = [];
    for await (const n of phoneNumbersClient(stack, japan).listPurchasedPhoneNumbers()) japanListed.push(n);
    expect(japanListed).toEqual([]);
  });

  it('beginUpdatePhoneNumberCapabilities changes what the number does, within what it offers', async () => {
    const client = phoneNumbersClient(stack, europe);
    const poller = await client.beginUpdatePhoneNumberCapabilities(bought[0]!, { calling: 'none', sms: 'outbound' }, FAST_POLL);
    const updated = await poller.pollUntilDone();
    expect(updated).toMatchObject({ phoneNumber: bought[0], capabilities: { calling: 'none', sms: 'outbound' } });
    expect((await client.getPurchasedPhoneNumber(bought[0]!)).capabilities).toEqual({ calling: 'none', sms: 'outbound' });
    await expect(client.beginUpdatePhoneNumberCapabilities(bought[0]!, { calling: 'inbound', sms: 'outbound' })).rejects.toMatchObject({ statusCode: 400, code: 'ValidationError' });
    expect((await client.getPurchasedPhoneNumber(bought[0]!)).capabilities).toEqual({ calling: 'none', sms: 'outbound' });
  });

  it('beginReleasePhoneNumber returns the number to the pool, deletes its opt-outs and writes an audit record without the number', async () => {
    const client = phoneNumbersClient(stack, europe);
    const released = bought[1]!;
    // An opt-out of the number: a handset texts STOP to it.
    smscOf(stack).inject('+447700900123', released, 'STOP');
    await eventually(async () => ((await itemsOf(stack, 'europe', 'smsRecords')).some((r) => r.kind === 'smsOptOut' && r.phoneNumber === released) ? true : undefined), 10_000, 'the opt-out');
    const poller = await client.beginReleasePhoneNumber(released, FAST_POLL);
    await poller.pollUntilDone();
    expect(poller.getOperationState().isCompleted).toBe(true);
    const listed = [];
    for await (const n of client.listPurchasedPhoneNumbers()) listed.push(n.phoneNumber);
    expect(listed).toEqual([bought[0]]);
    const entry = (await pool(stack, 'Europe')).find((n) => n.phoneNumber === released)!;
    expect(entry).toMatchObject({ status: 'available' });
    expect(entry.assignedResourceId).toBeUndefined();
    expect(entry.assignment).toBeUndefined();
    expect((await itemsOf(stack, 'europe', 'smsRecords')).filter((r) => r.phoneNumber === released)).toEqual([]);
    const audits = (await itemsOf(stack, 'europe', 'auditRecords')).filter((a) => a.action === 'phoneNumber.released');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ resourceId: europe.id, subjectType: 'phoneNumberAssignment', reason: 'releasedByRequest', details: { countryCode: 'US', phoneNumberType: 'tollFree', optOutsDeleted: 1 } });
    expect(JSON.stringify(audits[0])).not.toContain(released.slice(1));
    const fact = (await itemsOf(stack, 'europe', 'phoneNumberRecords')).find((r) => r.kind === 'phoneNumberAssignment' && r.phoneNumber === released)!;
    expect(fact.releasedAt).toEqual(expect.any(String));
    await expect(client.getPurchasedPhoneNumber(released)).rejects.toMatchObject({ statusCode: 404 });
    await expect(client.beginReleasePhoneNumber(released)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('deleting the resource gives its numbers back to the pool', async () => {
    const temporary = await stack.createResource('numbers-temp', 'Europe');
    const numbers = await buyNumbers(stack, temporary, { countryCode: 'GB', phoneNumberType: 'geographic', assignmentType: 'person', capabilities: { calling: 'inbound+outbound', sms: 'outbound' } });
    expect(numbers).toEqual([GB[0]!.phoneNumber]);
    expect((await stack.management('DELETE', '/api/management/resources/numbers-temp')).status).toBe(200);
    expect((await pool(stack, 'Europe')).find((n) => n.phoneNumber === numbers[0])).toMatchObject({ status: 'available' });
  });
});

describe('what the service does not offer', () => {
  it('answers 501 NotImplemented in the ACS error shape', async () => {
    const client = phoneNumbersClient(stack, europe);
    await expect(client.browseAvailablePhoneNumbers({ countryCode: 'US', phoneNumberType: 'tollFree' })).rejects.toMatchObject({ statusCode: 501, code: 'NotImplemented' });
    await expect(client.searchOperatorInformation(['+18005550101'])).rejects.toMatchObject({ statusCode: 501, code: 'NotImplemented' });
    await expect(client.getReservation('00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({ statusCode: 501, code: 'NotImplemented' });
  });
});
