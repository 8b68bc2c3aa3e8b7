import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run audit:residency`: asks the running service (default http://localhost:7071, or
 * AUDIT_BASE_URL) to audit every enabled geography's accounts and stores, prints the report and
 * exits 0 when everything is verified in place, 1 when anything is misplaced (an item, or an
 * account outside its geography's regions or shared), 3 when nothing is wrong but some account's
 * location could not be verified (2: the audit could not run). The management key comes from
 * MANAGEMENT_KEY or local.settings.json.
 */
const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

async function managementKey(): Promise<string> {
  if (process.env.MANAGEMENT_KEY) return process.env.MANAGEMENT_KEY;
  const settings = JSON.parse(await readFile(join(root, 'local.settings.json'), 'utf8')) as { Values?: Record<string, string> };
  const key = settings.Values?.MANAGEMENT_KEY;
  if (!key) throw new Error('No MANAGEMENT_KEY in the environment or local.settings.json');
  return key;
}

interface AccountCheck {
  status: string;
  detail: string;
}

interface Report {
  verdict: 'ok' | 'problemsFound' | 'notVerified';
  checked: number;
  misplacedCount: number;
  geographies: { geography: string; cosmosItems: number; blobs: number; accounts: { cosmos: AccountCheck; storage: AccountCheck; topic: AccountCheck } }[];
  misplaced: { store: string; foundIn: string; location: string; id: string; resourceGeography: string | null }[];
}

async function main(): Promise<void> {
  const base = process.env.AUDIT_BASE_URL ?? 'http://localhost:7071';
  const response = await fetch(`${base}/api/management/residency/audit`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await managementKey()}` },
  });
  if (!response.ok) throw new Error(`The audit request failed: ${response.status} ${await response.text()}`);
  const report = (await response.json()) as Report;
  for (const row of report.geographies) {
    const { cosmos, storage, topic } = row.accounts;
    console.log(`  ${row.geography.padEnd(22)} ${row.cosmosItems} items, ${row.blobs} blobs; Cosmos ${cosmos.status}, storage ${storage.status}, topic ${topic.status}`);
    for (const [kind, check] of Object.entries(row.accounts)) {
      if (check.status !== 'ok') console.log(`    ${kind}: ${check.detail}`);
    }
  }
  console.log(`checked ${report.checked} items; misplaced ${report.misplacedCount}`);
  for (const item of report.misplaced) {
    console.log(`  MISPLACED ${item.store} ${item.location} ${item.id} (found in ${item.foundIn}, resource in ${item.resourceGeography ?? 'no known resource'})`);
  }
  console.log(`verdict: ${report.verdict}`);
  process.exit({ ok: 0, problemsFound: 1, notVerified: 3 }[report.verdict]);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
});
