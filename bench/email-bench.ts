import { Agent } from 'node:https';
import { EmailClient } from '@azure/communication-email';
import { createResource, startBenchStack } from './bench-stack.js';

/**
 * E-mail to the embedded SMTP relay (STARTTLS, AUTH), through the whole path: the official
 * EmailClient's beginSend over HTTPS (the POST and its first status poll), the send stored in the
 * geography (content blob and operation), the work item through the Storage queue (Azurite), the
 * delivery worker, one SMTP transaction per recipient on pooled connections, the delivery report
 * through the outbox, the delivery log record, the content deleted. Latency is send-to-accepted: from
 * the call to beginSend to the relay's acceptance of the message (one clock, one process). The rate is
 * messages the relay accepted per second, from the first call to the last acceptance.
 */
const SCENARIOS = [
  { label: '1 recipient, 1 sender', emails: 60, recipients: 1, concurrency: 1 },
  { label: '1 recipient, 8 senders', emails: 400, recipients: 1, concurrency: 8 },
  { label: '10 recipients, 8 senders', emails: 60, recipients: 10, concurrency: 8 },
];

export async function emailBench(): Promise<string[]> {
  const stack = await startBenchStack({ EMAIL_RATE_LIMIT_FACTOR: '0', EMAIL_STATUS_RETRY_AFTER_SECONDS: '1' });
  const lines: string[] = [];
  try {
    const resource = await createResource(stack, 'bench-email', 'Europe');
    const management = (path: string, body: unknown) =>
      fetch(`${stack.httpUrl}/api/management/resources/bench-email/${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${stack.managementKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await management('emailDomains/bench.example', { verificationStates: { Domain: 'Verified', SPF: 'Verified', DKIM: 'Verified', DKIM2: 'Verified' } });
    await management('emailDomains/bench.example/senderUsernames/DoNotReply', { displayName: 'Bench' });
    const agent = new Agent({ ca: stack.tls.cert, keepAlive: true, maxSockets: 64 });
    const client = new EmailClient(resource.connectionString, { additionalPolicies: [{ position: 'perCall', policy: { name: 'ca', sendRequest: (r: any, next: any) => ((r.agent = agent), next(r)) } }] });
    const relay = stack.smtpRelay!.server;
    const body = 'A transactional message of a realistic length: an order confirmation with a few lines of text. '.repeat(8);

    for (const scenario of SCENARIOS) {
      relay.clear();
      const started = new Map<string, number>();
      let next = 0;
      const firstCall = Date.now();
      await Promise.all(
        Array.from({ length: scenario.concurrency }, async () => {
          while (next < scenario.emails) {
            const i = next++;
            const at = Date.now();
            const poller = await client.beginSend({
              senderAddress: 'DoNotReply@bench.example',
              content: { subject: `Order ${i}`, plainText: body, html: `<p>${body}</p>` },
              recipients: { to: Array.from({ length: scenario.recipients }, (_, r) => ({ address: `customer${i}-${r}@fabrikam.example` })) },
            });
            const { config } = poller.getOperationState() as { config?: { operationLocation?: string } };
            const id = /operations\/([0-9a-f-]{36})/.exec(config?.operationLocation ?? '')?.[1];
            if (id) started.set(id, at);
          }
        }),
      );
      const expected = scenario.emails * scenario.recipients;
      const deadline = Date.now() + 300_000;
      while (relay.received.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const latencies: number[] = [];
      for (const mail of relay.received) {
        const id = /Message-ID: <([0-9a-f-]{36})@/i.exec(mail.raw.subarray(0, 4096).toString('latin1'))?.[1];
        const start = id ? started.get(id) : undefined;
        if (start !== undefined) latencies.push(Date.parse(mail.receivedAt) - start);
      }
      const last = Math.max(...relay.received.map((m) => Date.parse(m.receivedAt)));
      latencies.sort((a, b) => a - b);
      const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
      const rate = (relay.received.length / (last - firstCall)) * 1000;
      lines.push(
        `${`e-mail to the relay, ${scenario.label}`.padEnd(58)} ${String(relay.received.length).padStart(6)} msgs ${rate.toFixed(1).padStart(7)}/s  p50 ${String(pct(50)).padStart(6)} ms  p99 ${String(pct(99)).padStart(6)} ms${relay.received.length < expected ? `  (only ${relay.received.length} of ${expected})` : ''}`,
      );
    }
  } finally {
    await stack.stop();
  }
  return lines;
}
