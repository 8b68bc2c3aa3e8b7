import { beforeAll, describe, expect, it } from 'vitest';
import { azdUp } from './support/azd-up.js';
import { TENANT_ID } from './support/bicep-evaluator.js';
import { parseInfra, type BicepFile } from './support/bicep-parser.js';

/**
 * App Service Authentication for the privacy console (README, Privacy console, Signing in): off
 * unless CONSOLE_AUTH_CLIENT_ID names an app registration; then Microsoft Entra ID sign-in in front
 * of the app with anonymous requests passed on (the data plane is not signed in with Entra), and the
 * principals the app allows in its settings, which are never set without authentication in front.
 */

let files: Map<string, BicepFile>;
beforeAll(async () => {
  files = await parseInfra();
});

const authConfigs = (up: Awaited<ReturnType<typeof azdUp>>) => up.resources.filter((r) => r.type === 'Microsoft.Web/sites/config');

describe('App Service Authentication for the console', () => {
  it('is off by default, and so are the principal settings', async () => {
    const up = await azdUp(files, { MANAGEMENT_PRINCIPALS: '6f1b2c3d-0000-4000-8000-00000000000a' });
    expect(authConfigs(up)).toEqual([]);
    expect([up.appSettings.MANAGEMENT_PRINCIPALS, up.appSettings.MANAGEMENT_APP_ROLES]).toEqual([undefined, undefined]);
  });

  it('signs in with Entra ID in front of the app, lets anonymous requests through, and sets who is allowed', async () => {
    const up = await azdUp(files, { CONSOLE_AUTH_CLIENT_ID: 'c0ffee00-0000-4000-8000-000000000001', MANAGEMENT_PRINCIPALS: '6f1b2c3d-0000-4000-8000-00000000000a', MANAGEMENT_APP_ROLES: 'Privacy.Officer' });
    const site = up.resources.find((r) => r.type === 'Microsoft.Web/sites')!;
    const [auth, ...more] = authConfigs(up);
    expect(more).toEqual([]);
    expect([auth!.name, auth!.apiVersion]).toEqual([`${site.name}/authsettingsV2`, '2024-11-01']);
    expect(auth!.body.properties).toEqual({
      platform: { enabled: true },
      globalValidation: { requireAuthentication: false, unauthenticatedClientAction: 'AllowAnonymous' },
      httpSettings: { requireHttps: true },
      identityProviders: {
        azureActiveDirectory: {
          enabled: true,
          registration: { clientId: 'c0ffee00-0000-4000-8000-000000000001', openIdIssuer: `https://login.microsoftonline.com/${TENANT_ID}/v2.0` },
          validation: { allowedAudiences: ['c0ffee00-0000-4000-8000-000000000001', 'api://c0ffee00-0000-4000-8000-000000000001'] },
        },
      },
      login: { tokenStore: { enabled: false } },
    });
    expect([up.appSettings.MANAGEMENT_PRINCIPALS, up.appSettings.MANAGEMENT_APP_ROLES]).toEqual(['6f1b2c3d-0000-4000-8000-00000000000a', 'Privacy.Officer']);
  });
});
