import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { services } from '../../shared/services.js';
import { configureSender, EMAIL_TEST_ENV, EMAIL_TEST_QUEUES, finished, runFunction, sendRaw, until } from '../support/email.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * E-mail content is ephemeral: while a message waits for a retry, its subject, bodies and attachment
 * bytes are in the geography (the scan below finds them there, so it can find them); once the relay
 * has taken it, no Cosmos container and no blob container of any geography holds any of them, and
 * neither do the published events or the service's logs.
 */
let stack: TestStack;
let resource: ResourceView;
let sender: string;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  stack = await startTestStack({ clock, env: { ...EMAIL_TEST_ENV, LOG_LEVEL: 'debug' }, queues: EMAIL_TEST_QUEUES });
  resource = await stack.createResource('email-no-content', 'Europe');
  sender = await configureSender(stack, resource);
});
afterAll(async () => {
  await stack?.stop();
});

interface Found {
  store: string;
  id: string;
  marker: string;
}

/** Every item of every Cosmos container and every blob of every blob container, of every enabled geography, searched for the markers. */
async function scanStores(markers: Record<string, Buffer>): Promise<{ found: Found[]; items: number; blobs: number }> {
  const found: Found[] = [];
  let items = 0;
  let blobs = 0;
  const search = (store: string, id: string, bytes: Buffer) => {
    for (const [marker, needle] of Object.entries(markers)) if (bytes.includes(needle)) found.push({ store, id, marker });
  };
  for (const geo of services().stores.all()) {
    const database = await geo.existingDatabase();
    const containers = await database.containers.readAll().fetchAll().then((r) => r.resources).catch(() => []);
    for (const { id: name } of containers) {
      const { resources } = await database.container(name).items.query<Record<string, unknown>>('SELECT * FROM c').fetchAll();
      for (const item of resources) {
        items += 1;
        search(`cosmos/${geo.databaseId}/${name}`, String(item.id), Buffer.from(JSON.stringify(item)));
      }
    }
    const service = await geo.blobService();
    for (const name of geo.allBlobContainerNames()) {
      const container = service.getContainerClient(name);
      if (!(await container.exists())) continue;
      for await (const blob of container.listBlobsFlat()) {
        blobs += 1;
        search(`blob/${name}`, blob.name, await container.getBlobClient(blob.name).downloadToBuffer());
      }
    }
  }
  return { found, items, blobs };
}

describe('after delivery', () => {
  it('no store of the geography holds the subject, the bodies or the attachment bytes', async () => {
    const tag = randomUUID();
    const attachment = Buffer.concat([Buffer.from(`ATTACHMENT-${tag}-`), randomBytes(3000)]);
    const inline = randomBytes(1200);
    const content = { subject: `SUBJECT-${tag}`, plainText: `PLAINTEXT-${tag}`, html: `<p>HTML-${tag}</p><img src="cid:pic">` };
    const markers: Record<string, Buffer> = {
      subject: Buffer.from(content.subject),
      plainText: Buffer.from(content.plainText),
      html: Buffer.from(`HTML-${tag}`),
      attachmentBytes: attachment.subarray(60, 120),
      attachmentBase64: Buffer.from(attachment.toString('base64').slice(80, 160)),
      inlineBytes: inline.subarray(100, 160),
      inlineBase64: Buffer.from(inline.toString('base64').slice(80, 160)),
      customHeader: Buffer.from(`HEADER-${tag}`),
      displayName: Buffer.from(`NAME-${tag}`),
    };
    // The app's own log lines (JSON on stdout) during the whole test.
    const logged: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    try {
      await sendAndDeliver(tag, content, markers, attachment, inline);
    } finally {
      process.stdout.write = write;
    }
    expect(logged.join('')).toContain('email.delivery_run');
    expect(logged.join('')).not.toContain(tag);
    expect(stack.logs.join('\n')).not.toContain(tag);
  });
});

async function sendAndDeliver(tag: string, content: Record<string, string>, markers: Record<string, Buffer>, attachment: Buffer, inline: Buffer): Promise<void> {
  {
    const address = 'kept-waiting@fabrikam.example';
    stack.smtpRelay!.fail(address, { mode: 'temporary', times: 1 });
    const response = await sendRaw(
      stack,
      resource,
      {
        senderAddress: sender,
        content,
        recipients: { to: [{ address, displayName: `NAME-${tag}` }] },
        attachments: [
          { name: 'report.bin', contentType: 'application/octet-stream', contentInBase64: attachment.toString('base64') },
          { name: 'pic.png', contentType: 'image/png', contentInBase64: inline.toString('base64'), contentId: 'pic' },
        ],
        headers: { 'X-Tag': `HEADER-${tag}` },
      },
      {},
      clock.now(),
    );
    expect(response.status).toBe(202);
    const id = response.body.id as string;
    await until(async () => {
      const op = (await storedEmail()).find((o) => o.id === id);
      return op && op.attempts === 1 && op.lease === null;
    });

    // Waiting for its retry, the message is in the geography, in the content blob and nowhere else.
    const waiting = await scanStores(markers);
    expect(new Set(waiting.found.map((f) => f.store))).toEqual(new Set(['blob/acs-europe-email-content']));
    expect(waiting.found.map((f) => f.marker).sort()).toEqual(Object.keys(markers).filter((m) => !/Bytes$/.test(m)).sort());

    const start = clock.now();
    try {
      clock.advance(60_000);
      await runFunction(stack, 'emailDeliveryScheduler');
      expect((await finished(stack, resource, id, () => clock.now())).status).toBe('Succeeded');
    } finally {
      clock.set(start);
    }
    const [delivered] = stack.smtpRelay!.server.received.filter((m) => m.envelope.rcptTo.includes(address));
    expect(delivered!.raw.includes(markers.subject!)).toBe(true);

    const after = await scanStores(markers);
    expect(after.found).toEqual([]);
    // The scan read something: the operation, its delivery report in the outbox, the log records, the domain...
    expect(after.items).toBeGreaterThan(5);
    // Nor do the events that went out, or anything the service logged.
    const events = JSON.stringify(stack.topic!.received());
    for (const marker of Object.values(markers)) expect(events.includes(marker.toString('latin1'))).toBe(false);
  }
}

async function storedEmail(): Promise<Record<string, any>[]> {
  const container = await services().stores.forResource({ id: resource.id, geographyKey: 'europe' }).container('emailOperations');
  const { resources } = await container.items.query<Record<string, any>>({ query: 'SELECT * FROM c WHERE c.resourceId = @rid', parameters: [{ name: '@rid', value: resource.id }] }, { partitionKey: resource.id }).fetchAll();
  return resources;
}
