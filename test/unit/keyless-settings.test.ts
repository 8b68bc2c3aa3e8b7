import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { endpointsFor, parseSettings } from '../../shared/config/settings.js';
import { storeTls } from '../../shared/stores/store-tls.js';

const base = { MANAGEMENT_KEY: 'm'.repeat(40), TELEMETRY_HASH_KEY: 't'.repeat(40) };
const keyless = {
  ...base,
  COSMOS_ENDPOINT: 'https://acs-eu.documents.azure.com:443/',
  STORAGE_ACCOUNT_URL: 'https://acseu.blob.core.windows.net',
  EVENTGRID_TOPIC_ENDPOINT: 'https://acs-eu.westeurope-1.eventgrid.azure.net/api/events',
};

describe('keyless settings', () => {
  it('stores given by endpoint and account URL only: no key, no connection string anywhere', () => {
    const settings = parseSettings({ ...keyless, AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555' });
    expect(endpointsFor(settings, 'europe')).toEqual({
      cosmosEndpoint: keyless.COSMOS_ENDPOINT,
      storageAccountUrl: keyless.STORAGE_ACCOUNT_URL,
      eventGridEndpoint: keyless.EVENTGRID_TOPIC_ENDPOINT,
    });
    expect(settings.azureClientId).toBe('11111111-2222-3333-4444-555555555555');
  });

  it('RECORDING_COPY_BLOCK_BYTES: 100 MiB by default, from 1 MiB to 4000 MiB (Put Block From URL)', () => {
    expect(parseSettings(keyless).recordingCopyBlockBytes).toBe(100 * 1024 * 1024);
    expect(parseSettings({ ...keyless, RECORDING_COPY_BLOCK_BYTES: String(4000 * 1024 * 1024) }).recordingCopyBlockBytes).toBe(4000 * 1024 * 1024);
    expect(() => parseSettings({ ...keyless, RECORDING_COPY_BLOCK_BYTES: String(1024 * 1024 - 1) })).toThrow(/RECORDING_COPY_BLOCK_BYTES must be at least 1048576/);
    expect(() => parseSettings({ ...keyless, RECORDING_COPY_BLOCK_BYTES: String(4000 * 1024 * 1024 + 1) })).toThrow(/RECORDING_COPY_BLOCK_BYTES must be at most 4194304000/);
  });

  it('COSMOS_ALLOW_SELF_SIGNED is refused in Azure (certificate checks stay on there), allowed locally', () => {
    expect(parseSettings({ ...keyless, COSMOS_ALLOW_SELF_SIGNED: 'true' }).cosmosAllowSelfSigned).toBe(true);
    const azure = { ...keyless, WEBSITE_INSTANCE_ID: 'i-1', STRICT_RESIDENCY: 'false' };
    expect(parseSettings(azure).cosmosAllowSelfSigned).toBe(false);
    expect(() => parseSettings({ ...azure, COSMOS_ALLOW_SELF_SIGNED: 'true' })).toThrow(/COSMOS_ALLOW_SELF_SIGNED must be false in Azure/);
  });
});

describe('store TLS', () => {
  it("without extra certificates the clients keep Node's defaults (no CA list, no agent of their own)", () => {
    const tls = storeTls(undefined);
    expect([tls.tlsOptions, tls.httpsAgent()]).toEqual([undefined, undefined]);
  });

  it('an extra certificate is trusted besides the system roots, never instead of them, and certificate checks stay on', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nlocal\n-----END CERTIFICATE-----\n';
    const tls = storeTls(pem);
    expect(tls.tlsOptions?.ca).toEqual([...rootCertificates, pem]);
    const agent = tls.httpsAgent()!;
    expect(tls.httpsAgent()).toBe(agent);
    expect(agent.options.ca).toEqual([...rootCertificates, pem]);
    expect(agent.options.rejectUnauthorized).not.toBe(false);
  });
});
