type Env = Record<string, string | undefined>;

let configured: Env | undefined;

/**
 * The environment the app's settings are read from: `process.env`, unless the development host or a
 * test configured another (`configureServices`). Apart from the settings module so that the start
 * hook can check the settings without loading the composition root.
 */
export const settingsEnv = (): Env => configured ?? process.env;

export function configureSettingsEnv(env: Env | undefined): void {
  configured = env;
}
