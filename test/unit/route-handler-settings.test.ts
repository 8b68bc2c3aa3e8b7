import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { parseSettings, SettingsError } from '../../shared/config/settings.js';
import { routeHandler } from '../../shared/http/route-handler.js';

describe('a request while the settings are invalid', () => {
  it('is refused with 503 in the ACS error shape, naming no setting and running no handler', async () => {
    let ran = 0;
    let settingsError: unknown;
    try {
      parseSettings({ MANAGEMENT_KEY: 'm'.repeat(32), TELEMETRY_HASH_KEY: 't'.repeat(32), COSMOS_ENDPOINT: 'https://c.documents.azure.com/', STRICT_RESIDENCY: 'true', ENABLED_GEOGRAPHIES: 'Japan' });
    } catch (error) {
      settingsError = error;
    }
    expect(settingsError).toBeInstanceOf(SettingsError);
    const handler = routeHandler({ GET: async () => ((ran += 1), { status: 200 }) }, () => {
      throw settingsError;
    });
    const response = await handler(new HttpRequest({ method: 'GET', url: 'http://localhost/api/x' }), new InvocationContext({ invocationId: 'c0ffee', functionName: 'x' }));
    expect(response.status).toBe(503);
    expect((response as HttpResponseInit).jsonBody).toEqual({ error: { code: 'ServiceUnavailable', message: 'The service cannot serve: its settings are invalid (its start-up log names them).' } });
    expect(JSON.stringify(response)).not.toContain('JAPAN');
    expect(ran).toBe(0);
  });
});
