import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import * as z from 'zod';

/**
 * local.settings.json, read the way `func start` reads it: `Values` become app settings
 * (environment variables), `Host.LocalHttpPort` sets the HTTP port. Created from the sample when
 * missing; secrets the service needs (MANAGEMENT_KEY, TELEMETRY_HASH_KEY) are generated into it
 * when absent. Variables already set in the environment win over the file.
 */
const localSettingsSchema = z.object({
  IsEncrypted: z.boolean().default(false),
  Values: z.record(z.string(), z.string()).default({}),
  Host: z.object({ LocalHttpPort: z.number().int().optional() }).partial().default({}),
  ConnectionStrings: z.record(z.string(), z.string()).optional(),
});
export type LocalSettings = z.infer<typeof localSettingsSchema>;

const GENERATED_SECRETS = ['MANAGEMENT_KEY', 'TELEMETRY_HASH_KEY'] as const;

export async function loadLocalSettings(path: string, samplePath: string): Promise<{ settings: LocalSettings; created: boolean; generated: string[] }> {
  let created = false;
  if (!existsSync(path)) {
    await copyFile(samplePath, path);
    created = true;
  }
  const parsed = localSettingsSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (parsed.data.IsEncrypted) throw new Error(`${path} is encrypted; the development host reads only unencrypted settings`);
  const settings = parsed.data;
  const generated: string[] = [];
  for (const name of GENERATED_SECRETS) {
    if (!settings.Values[name]) {
      settings.Values[name] = randomBytes(32).toString('base64url');
      generated.push(name);
    }
  }
  if (generated.length > 0) await writeFile(path, JSON.stringify(settings, null, 2) + '\n');
  return { settings, created, generated };
}

/** The environment the app sees: the file's Values, with the process environment winning. */
export function settingsEnvironment(settings: LocalSettings, processEnv: Record<string, string | undefined>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...settings.Values };
  for (const [key, value] of Object.entries(processEnv)) if (value !== undefined) env[key] = value;
  return env;
}
