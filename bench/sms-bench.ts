import { PhoneNumbersClient } from '@azure/communication-phone-numbers';
import { SmsClient } from '@azure/communication-sms';
import { createResource, measure, sdkOptions, startBenchStack, summarize } from './bench-stack.js';

const REQUESTS = 400;
const TEXT = 'Your appointment is confirmed for Tuesday at 10:30. Reply STOP to opt out.';

/**
 * SMS through the embedded SMSC over real SMPP: `SmsClient.send` (official SDK over HTTPS) to 1
 * recipient per request at 1 and 8 concurrent senders, and to 100 recipients per request; then 1
 * recipient with delivery reports asked for (one more store write per message) and the time until
 * every report has come back as an event. Recipients per second and p50/p99 latency per request.
 */
export async function smsBench(): Promise<string[]> {
  const stack = await startBenchStack({ ENABLED_GEOGRAPHIES: 'Europe', LOCAL_SMSC_RECEIPT_DELAY_MS: '10' });
  const lines: string[] = [];
  try {
    const resource = await createResource(stack, 'bench-sms', 'Europe');
    const options = sdkOptions(stack);
    const imported = await fetch(`${stack.httpUrl}/api/management/numberPools/Europe/numbers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.managementKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ numbers: [{ phoneNumber: '+18005550900', countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', capabilities: { calling: 'none', sms: 'inbound+outbound' } }] }),
    });
    if (!imported.ok) throw new Error(`import: ${imported.status}`);
    const numbers = new PhoneNumbersClient(resource.connectionString, options);
    const search = await (await numbers.beginSearchAvailablePhoneNumbers({ countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', capabilities: { calling: 'none', sms: 'inbound+outbound' } })).pollUntilDone();
    await (await numbers.beginPurchasePhoneNumbers(search.searchId)).pollUntilDone();
    const from = search.phoneNumbers[0]!;
    const sms = new SmsClient(resource.connectionString, options);
    const to = (i: number) => `+4477009${String(i % 100_000).padStart(5, '0')}`;
    await sms.send({ from, to: [to(0)], message: 'warm-up' });
    const smsc = stack.smsc!.server;

    for (const concurrency of [1, 8]) {
      smsc.submitted.length = 0;
      const run = await measure(REQUESTS, concurrency, (i) => sms.send({ from, to: [to(i)], message: TEXT }));
      lines.push(summarize(`send to 1 recipient, ${concurrency} concurrent (recipients/s = ops/s)`, run));
      lines.push(`  SMSC received ${smsc.submitted.length} submit_sm`);
    }

    smsc.submitted.length = 0;
    const batch = await measure(20, 1, (i) => sms.send({ from, to: Array.from({ length: 100 }, (_, j) => to(i * 100 + j)), message: TEXT }));
    lines.push(summarize('send to 100 recipients per request, sequential', batch));
    lines.push(`  ${((2000 / batch.wallMs) * 1000).toFixed(0)} recipients/s; SMSC received ${smsc.submitted.length} submit_sm`);

    smsc.submitted.length = 0;
    const topicBefore = stack.topic?.received().length ?? 0;
    const reports = await measure(REQUESTS, 8, (i) => sms.send({ from, to: [to(i)], message: TEXT }, { enableDeliveryReport: true }));
    lines.push(summarize('send to 1 recipient with a delivery report, 8 concurrent', reports));
    const started = performance.now();
    while ((stack.topic?.received().length ?? 0) - topicBefore < REQUESTS && performance.now() - started < 60_000) await new Promise((r) => setTimeout(r, 20));
    const reported = (stack.topic?.received().length ?? 0) - topicBefore;
    lines.push(`  ${reported} delivery report events published, the last ${(performance.now() - started).toFixed(0)} ms after the last send answered`);
  } finally {
    await stack.stop();
  }
  return lines;
}
