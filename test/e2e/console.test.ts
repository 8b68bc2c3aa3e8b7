import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { services } from '../../shared/services.js';
import { SCHEDULED_TIMERS_OFF } from '../../shared/timer-schedules.js';
import { createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { buildConsole, consoleSize } from '../support/console-build.js';
import { repoRoot, startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * The privacy console in a real headless Chromium (Debian's, driven by playwright-core) against the
 * real local stack: sign in, create a resource and see it on the map, run the audit, place a legal
 * hold and see it in the preview, erase a seeded person and watch the request to "succeeded", and
 * download the erasure receipt; bad input and a network failure. Every step is checked on the page
 * and in what the service stored. Screenshots of the main views go to test-output/console/ (ignored).
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(repoRoot, 'test-output', 'console');
/** The first-load target stated in the README (HTML, JS and CSS, gzipped). */
const FIRST_LOAD_TARGET_BYTES = 40 * 1024;
const DAY = 86_400_000;

const clock = new ManualClock(new Date());
let stack: TestStack;
let consoleDir: string;
let browser: Browser;
let page: Page;
let seeded: ResourceView;
let alice: ChatUser;
let threadId: string;

beforeAll(async () => {
  consoleDir = await buildConsole();
  // No timer runs on its schedule: a chat purge run of its own on the hour would delete the due thread
  // the legal-hold test keeps (seen with every schedule at 2 s).
  stack = await startTestStack({ clock, env: { ...SCHEDULED_TIMERS_OFF, CONSOLE_DIR: consoleDir, LOCAL_BLOB_EVENTS_POLL_MS: '3600000' } });
  seeded = await stack.createResource('seeded', 'Europe');
  alice = await createChatUser(stack, seeded);
  const bob = await createChatUser(stack, seeded);
  threadId = (await alice.chat.createChatThread({ topic: 'Claims' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
  await alice.thread(threadId).sendMessage({ content: 'my policy number is 42' });
  await bob.thread(threadId).sendMessage({ content: 'noted' });
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' })).newPage();
  page.setDefaultTimeout(20_000);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (consoleDir) await rm(consoleDir, { recursive: true, force: true });
});

const managementKey = () => stack.env.MANAGEMENT_KEY!;
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const text = async (selector: string) => (await page.locator(selector).innerText()).trim();
/** What the page shows settles after the API answers: polled for up to 20 s. */
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 20_000, interval: 100 });

describe('privacy console', { timeout: 120_000 }, () => {
  it('signs in with the management key, refusing a wrong one next to the field, and keeps it in sessionStorage only', async () => {
    await page.goto(`${stack.httpUrl}/console/`);
    await page.getByLabel('Management key').fill('not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => text('#management-key-error')).toBe('The management key is not valid.');
    expect(await page.getByLabel('Management key').getAttribute('aria-invalid')).toBe('true');
    await shot('sign-in');
    await page.getByLabel('Management key').fill(managementKey());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Views' }).waitFor();
    expect(await text('h1')).toBe('Where data lives');
    expect(await page.evaluate("[sessionStorage.getItem('acs-console.management-key'), localStorage.length]")).toEqual([managementKey(), 0]);
  });

  it('creates a resource (a bad name gets the API’s message next to the field) and shows it on the map', async () => {
    await page.getByRole('link', { name: 'Resources' }).click();
    await page.getByLabel('Name', { exact: true }).fill('bad_name!');
    await page.getByLabel('Geography').selectOption('Japan');
    await page.getByRole('button', { name: 'Create resource' }).click();
    await poll(() => text('#new-name-error')).toBe("Invalid resource name 'bad_name!': must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen.");
    await poll(() => page.evaluate('document.activeElement.id')).toBe('new-name');
    expect((await stack.management('GET', '/api/management/resources')).body.value.map((r: { name: string }) => r.name)).toEqual(['seeded']);

    await page.getByLabel('Name', { exact: true }).fill('console-jp');
    await page.getByRole('button', { name: 'Create resource' }).click();
    await page.getByText('Created console-jp in Japan.').waitFor();
    const stored = await stack.management('GET', '/api/management/resources/console-jp');
    expect([stored.status, stored.body.geography, stored.body.eventPayloads]).toEqual([200, 'Japan', 'full']);
    await poll(() => page.getByTestId('resource-table').locator('tbody tr', { hasText: 'console-jp' }).innerText()).toMatch(/^console-jp\tJapan\t.+\tfull\tidle threads 30 days, recordings 48 h, logs 30 days\t/);
    await page.getByRole('button', { name: 'Settings and keys of console-jp' }).click();
    expect(await page.getByText(stored.body.primaryKey).count()).toBe(0);
    await page.getByRole('button', { name: 'Show keys' }).click();
    await page.getByTestId('keys').getByText(stored.body.primaryKey, { exact: true }).waitFor();
    await shot('resources');

    await page.getByRole('link', { name: 'Where data lives' }).click();
    const japan = page.getByRole('button', { name: 'Japan, enabled, 1 resource, not audited yet' });
    await japan.focus();
    await page.keyboard.press('Enter');
    expect(await japan.getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('geography-details').getByText('1 resource: console-jp').waitFor();
    expect(await page.getByRole('button', { name: /^France, / }).getAttribute('aria-label')).toBe('France, enabled, 0 resources, not audited yet');
  });

  it('runs the residency audit and lists what it found', async () => {
    await page.getByRole('button', { name: 'Run the residency audit' }).click();
    const result = page.getByTestId('audit-result');
    await result.waitFor();
    const stored = (await stack.management('GET', '/api/management/residency/audit')).body;
    expect([stored.verdict, stored.misplacedCount]).toEqual(['notVerified', 0]);
    expect(await result.getByRole('status').innerText()).toBe(
      `? Verdict: notVerified. Nothing out of place was found, but not everything could be proven: some account locations could not be read (see each geography). ${stored.checked} items checked.`,
    );
    await result.getByText('No misplaced items.').waitFor();
    await page.getByRole('button', { name: 'Japan, enabled, 1 resource, audit could not verify everything' }).waitFor();
    const japanAudit = stored.geographies.find((g: { key: string }) => g.key === 'japan');
    expect(await page.locator('section[aria-labelledby="table-heading"] tbody tr', { hasText: 'Japan' }).innerText()).toBe(
      `Japan\tyes\t1\t? notVerified: ${japanAudit.cosmosItems} items, ${japanAudit.blobs} blobs, 0 misplaced`,
    );
    await shot('map');
    // The map alone, small enough for the README (docs/console-map.png is a copy of one run's).
    await page.locator('section.map-section').screenshot({ path: join(SHOTS, 'map-section.png') });
  });

  it('places a legal hold on a due thread and sees the preview keep it', async () => {
    clock.advance(31 * DAY);
    await page.getByRole('link', { name: 'Retention' }).click();
    await page.getByLabel('Resource', { exact: true }).selectOption('seeded');
    const summary = page.getByTestId('preview-summary');
    await poll(() => summary.innerText()).toBe('1 chat thread is due (1 idle for 30 days or more, 0 past their own retention policy). 0 due threads are kept for a legal hold.');
    await page.getByLabel('Thread id').fill('nope');
    await page.getByLabel('Reason', { exact: true }).fill('Case 42');
    await page.getByRole('button', { name: 'Place the hold' }).click();
    await poll(() => text('#hold-target-error')).toBe('Invalid request body: target.threadId: threadId must be a chat thread id (19:...@thread.v2)');
    expect(await page.getByLabel('Reason', { exact: true }).inputValue()).toBe('Case 42');

    await page.getByLabel('Thread id').fill(threadId);
    await page.getByRole('button', { name: 'Place the hold' }).click();
    await poll(() => summary.innerText()).toBe('No chat thread is due. 1 due thread is kept for a legal hold.');
    const holds = (await stack.management('GET', `/api/management/resources/seeded/legalHolds`)).body.value;
    expect(holds.map((h: { target: unknown; reason: string; releasedAt: unknown }) => [h.target, h.reason, h.releasedAt])).toEqual([[{ kind: 'thread', threadId }, 'Case 42', null]]);
    expect(await page.getByTestId('kept').locator('tbody tr').allInnerTexts()).toEqual([`thread ${threadId}\t${holds[0].id}`]);
    expect((await stack.management('GET', '/api/management/resources/seeded/retention/preview')).body.keptForLegalHold.count).toBe(1);

    // A purge run now keeps it: the chart's table shows the run.
    await stack.runFunction('chatRetentionPurge');
    await page.getByRole('button', { name: 'Refresh the runs' }).click();
    const chart = page.getByTestId('purge-chatRetention');
    await chart.getByRole('img', { name: /Chat retention purge: items deleted per run over time/ }).waitFor();
    await chart.getByText('The runs as a table').click();
    const run = (await stack.management('GET', '/api/management/purgeRuns')).body.runs.chatRetention[0];
    const deleted = Object.values(run.deleted as Record<string, number>).reduce((a, b) => a + b, 0);
    expect([run.status, run.held]).toEqual(['succeeded', 1]);
    await poll(() => chart.locator('tbody tr').first().innerText()).toMatch(new RegExp(`\\tsucceeded\\t${run.planned}\\t${deleted}\\t1\\t0$`));
    await shot('retention');
  });

  it('erases the seeded person after a confirmation naming them, shows the request live to "succeeded", and downloads the receipt', async () => {
    await page.getByRole('link', { name: 'Data subject requests' }).click();
    await page.getByLabel('Resource', { exact: true }).selectOption('seeded');
    await page.getByLabel(/^Delete/).check();
    await page.getByLabel('Identity ids').fill(alice.id);
    await page.getByRole('button', { name: 'Submit delete request' }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase this person’s data in seeded?' });
    await dialog.waitFor();
    expect(await dialog.getByTestId('erase-subjects').innerText()).toBe(`identity ${alice.id}`);
    await poll(() => page.evaluate('document.activeElement.textContent')).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await poll(() => page.evaluate('document.activeElement.textContent')).toBe('Submit delete request');
    expect((await stack.management('GET', '/api/management/resources/seeded/privacy/requests')).body.value).toEqual([]);

    await page.getByRole('button', { name: 'Submit delete request' }).click();
    await dialog.getByRole('button', { name: 'Erase' }).click();
    const status = page.getByTestId('request-status');
    await status.waitFor();
    let working = true;
    const worker = (async () => {
      while (working) {
        await stack.runFunction('privacyWorker');
        await sleep(300);
      }
    })();
    try {
      await status.filter({ hasText: 'Status: succeeded' }).waitFor({ timeout: 60_000 });
    } finally {
      working = false;
      await worker;
    }
    const requests = (await stack.management('GET', '/api/management/resources/seeded/privacy/requests')).body.value;
    expect(requests.map((r: { action: string; status: string }) => [r.action, r.status])).toEqual([['delete', 'succeeded']]);
    const request = requests[0];
    const { phase, phasesCompleted, phasesTotal } = request.progress;
    const bar = page.getByRole('progressbar');
    expect([await bar.getAttribute('value'), await bar.getAttribute('max'), await bar.getAttribute('id')]).toEqual([String(phasesCompleted), String(phasesTotal), 'request-bar']);
    expect(await page.getByTestId('progress-live').textContent()).toBe(`delete request succeeded, phase ${phase}, ${phasesCompleted} of ${phasesTotal} phases done.`);
    const rows = await page.getByTestId('request-counts').locator('tbody tr').allInnerTexts();
    expect(rows).toEqual(Object.entries(request.counts as Record<string, { found: number; deleted: number; held: number }>).map(([kind, c]) => `${kind}\t${c.found}\t${c.deleted}\t${c.held}`));
    // The held thread keeps alice's message; her identity is gone.
    expect([request.counts.identity.deleted, request.counts.chatMessage.held]).toEqual([1, 1]);
    const identities = await services().stores.forGeography(geographyByKey('europe')).container('identities');
    expect((await identities.item(alice.id, alice.id).read()).resource).toBeUndefined();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the erasure receipt' }).click()]);
    expect(download.suggestedFilename()).toBe(`erasure-receipt-${request.result.receiptId}.json`);
    const receipt = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(receipt).toEqual((await stack.management('GET', `/api/management/resources/seeded/privacy/receipts/${request.result.receiptId}`)).body);
    expect(receipt.deleted.identity).toBe(1);
    await shot('requests');
  });

  it('shows the API’s message next to the field it names, and records nothing', async () => {
    await page.getByLabel(/^Inventory/).check();
    await page.getByLabel('Identity ids').fill('');
    await page.getByLabel('Phone numbers (E.164)').fill('not-a-number');
    await page.getByRole('button', { name: 'Submit inventory request' }).click();
    await poll(() => text('#dsr-phones-error')).toBe('Invalid request body: subjects.phoneNumbers.0: phoneNumbers must be E.164 numbers such as +14255550123');
    expect(await page.getByLabel('Phone numbers (E.164)').getAttribute('aria-invalid')).toBe('true');
    await poll(() => page.evaluate('document.activeElement.id')).toBe('dsr-phones');
    expect((await stack.management('GET', '/api/management/resources/seeded/privacy/requests')).body.value).toHaveLength(1);
  });

  it('shows a network failure and loses nothing typed; the same form then goes through', async () => {
    await page.route(
      (url) => url.pathname.endsWith('/privacy/requests'),
      (route) => (route.request().method() === 'POST' ? route.abort('internetdisconnected') : route.continue()),
    );
    await page.getByLabel('Phone numbers (E.164)').fill('+14255550100');
    await page.getByLabel('E-mail addresses').fill('Alice@Example.com');
    await page.getByRole('button', { name: 'Submit inventory request' }).click();
    await page.getByRole('alert').filter({ hasText: 'The service could not be reached. Nothing you typed is lost: check the connection and try again.' }).waitFor();
    expect([await page.getByLabel('Phone numbers (E.164)').inputValue(), await page.getByLabel('E-mail addresses').inputValue(), await page.getByLabel(/^Inventory/).isChecked()]).toEqual([
      '+14255550100',
      'Alice@Example.com',
      true,
    ]);
    expect((await stack.management('GET', '/api/management/resources/seeded/privacy/requests')).body.value).toHaveLength(1);

    await page.unrouteAll();
    await page.getByRole('button', { name: 'Submit inventory request' }).click();
    await page.getByTestId('request-status').filter({ hasText: 'Status:' }).waitFor();
    // Both were submitted at the same (test) clock time, so their order is not defined.
    await poll(async () => (await stack.management('GET', '/api/management/resources/seeded/privacy/requests')).body.value.map((r: { action: string }) => r.action).sort()).toEqual(['delete', 'inventory']);
  });

  it('transfers less than the stated target on first load (HTML, JS and CSS, gzipped)', async () => {
    const fresh = await browser.newPage();
    const sizes: Record<string, number> = {};
    fresh.on('response', (response) => {
      const url = new URL(response.url());
      if (url.pathname.startsWith('/console')) sizes[url.pathname] = Number(response.headers()['content-length']);
    });
    await fresh.goto(`${stack.httpUrl}/console/`);
    await fresh.getByLabel('Management key').waitFor();
    await fresh.close();
    const built = await consoleSize(consoleDir);
    expect(Object.keys(sizes).sort()).toEqual(['/console/', ...built.files.filter((f) => f.path !== 'index.html').map((f) => `/console/${f.path}`)].sort());
    const transferred = Object.values(sizes).reduce((a, b) => a + b, 0);
    expect(transferred).toBe(built.gzipBytes);
    expect(transferred).toBeLessThan(FIRST_LOAD_TARGET_BYTES);
    console.log(`console first load: ${built.bytes} bytes, ${built.gzipBytes} gzipped (${built.files.map((f) => `${f.path} ${f.bytes}/${f.gzipBytes}`).join(', ')})`);
  });
});
