import { describe, expect, it } from 'vitest';
import { endpointsFor, parseSettings, SettingsError } from '../../shared/config/settings.js';
import { findGeography, GEOGRAPHIES } from '../../shared/geography/geographies.js';

const base = {
  MANAGEMENT_KEY: 'm'.repeat(40),
  TELEMETRY_HASH_KEY: 't'.repeat(40),
  COSMOS_ENDPOINT: 'https://default.documents.azure.com:443/',
  COSMOS_KEY: 'k',
  STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
};

describe('geographies', () => {
  it('has the 16 ACS geographies with WhatsApp Advanced Messaging in exactly five', () => {
    expect(GEOGRAPHIES).toHaveLength(16);
    expect(GEOGRAPHIES.filter((g) => g.whatsAppAdvancedMessaging).map((g) => g.name).sort()).toEqual([
      'Asia Pacific',
      'Australia',
      'Europe',
      'United Kingdom',
      'United States',
    ]);
    // The regions data at rest may live in, the primary first; no region belongs to two geographies.
    expect(Object.fromEntries(GEOGRAPHIES.map((g) => [g.key, g.regions]))).toEqual({
      africa: ['southafricanorth', 'southafricawest'],
      asiapacific: ['eastasia', 'southeastasia'],
      australia: ['australiaeast', 'australiasoutheast'],
      brazil: ['brazilsouth', 'brazilsoutheast'],
      canada: ['canadacentral', 'canadaeast'],
      europe: ['northeurope', 'westeurope'],
      france: ['francecentral', 'francesouth'],
      germany: ['germanywestcentral', 'germanynorth'],
      india: ['centralindia', 'southindia'],
      japan: ['japaneast', 'japanwest'],
      korea: ['koreacentral', 'koreasouth'],
      norway: ['norwayeast', 'norwaywest'],
      switzerland: ['switzerlandnorth', 'switzerlandwest'],
      uae: ['uaenorth', 'uaecentral'],
      uk: ['uksouth', 'ukwest'],
      unitedstates: ['eastus', 'westus2', 'centralus'],
    });
    const regions = GEOGRAPHIES.flatMap((g) => g.regions);
    expect(new Set(regions).size).toBe(regions.length);
  });

  it('finds names case-insensitively, with or without spaces', () => {
    expect(findGeography('united arab emirates')?.key).toBe('uae');
    expect(findGeography('AsiaPacific')?.name).toBe('Asia Pacific');
    expect(findGeography('EUROPE')?.key).toBe('europe');
    expect(findGeography('Atlantis')).toBeUndefined();
  });
});

describe('settings', () => {
  it('parses defaults and per-geography overrides', () => {
    const settings = parseSettings({ ...base, COSMOS_ENDPOINT__JAPAN: 'https://japan.documents.azure.com:443/', COSMOS_KEY__JAPAN: 'jk' });
    expect(settings.eventSchema).toBe('CloudEvents');
    expect(endpointsFor(settings, 'japan').cosmosEndpoint).toBe('https://japan.documents.azure.com:443/');
    expect(endpointsFor(settings, 'japan').storageConnectionString).toBe('UseDevelopmentStorage=true');
    expect(endpointsFor(settings, 'europe').cosmosEndpoint).toBe(base.COSMOS_ENDPOINT);
  });

  it('takes the purge count window from 0 to 1000 ms, 50 by default, and names it when out of range', () => {
    expect(parseSettings(base).purgeCountWindowMs).toBe(50);
    expect(parseSettings({ ...base, PURGE_COUNT_WINDOW_MS: '0' }).purgeCountWindowMs).toBe(0);
    expect(parseSettings({ ...base, PURGE_COUNT_WINDOW_MS: '1000' }).purgeCountWindowMs).toBe(1000);
    for (const bad of ['-1', '1001', '2.5']) expect(() => parseSettings({ ...base, PURGE_COUNT_WINDOW_MS: bad }), bad).toThrow(/PURGE_COUNT_WINDOW_MS/);
  });

  it('lists every problem, naming the setting', () => {
    try {
      parseSettings({ MANAGEMENT_KEY: 'short', EVENTGRID_SCHEMA: 'Avro' });
      throw new Error('expected SettingsError');
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      const message = (error as SettingsError).message;
      expect(message).toMatch(/MANAGEMENT_KEY must be at least 32 characters/);
      expect(message).toMatch(/TELEMETRY_HASH_KEY is required/);
      expect(message).toMatch(/COSMOS_ENDPOINT must be a URL/);
      expect(message).toMatch(/eventSchema/);
    }
  });
});
