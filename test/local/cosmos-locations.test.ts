import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmbeddedCosmos, type EmbeddedCosmos } from '../../local/emulators/cosmos-emulator.js';
import { REGION_DISPLAY_NAMES } from '../../local/emulators/cosmos-locations.js';
import { normaliseRegion } from '../../shared/residency/account-locations.js';
import { GEOGRAPHIES } from '../../shared/geography/geographies.js';

let emulator: EmbeddedCosmos;
const clients: CosmosClient[] = [];
beforeAll(async () => {
  emulator = await startEmbeddedCosmos(0);
});
afterAll(async () => {
  for (const client of clients) client.dispose();
  await emulator?.stop();
});

const client = (endpoint: string) => {
  const made = new CosmosClient({ endpoint, key: emulator.key, connectionPolicy: { enableEndpointDiscovery: false } });
  clients.push(made);
  return made;
};

const locationsOf = async (endpoint: string) => {
  const { resource } = await client(endpoint).getDatabaseAccount();
  return { readable: resource!.readableLocations.map((l) => l.name), writable: resource!.writableLocations.map((l) => l.name) };
};

it('answers the database-account read of a regional endpoint with its location, and of the main endpoint as cosmosdb-server does', async () => {
  const japan = await emulator.addEndpoint('Japan East');
  const brazil = await emulator.addEndpoint('Brazil South');
  expect(new Set([emulator.endpoint, japan.endpoint, brazil.endpoint]).size).toBe(3);
  expect(await locationsOf(japan.endpoint)).toEqual({ readable: ['Japan East'], writable: ['Japan East'] });
  expect(await locationsOf(brazil.endpoint)).toEqual({ readable: ['Brazil South'], writable: ['Brazil South'] });
  expect(await locationsOf(emulator.endpoint)).toEqual({ readable: ['South Central US'], writable: ['South Central US'] });

  // A planted location is what the next read reports.
  japan.location = 'West US 2';
  expect(await locationsOf(japan.endpoint)).toEqual({ readable: ['West US 2'], writable: ['West US 2'] });
});

it('serves the one in-memory account on every endpoint, and counts their requests together', async () => {
  const europe = await emulator.addEndpoint('West Europe');
  const before = emulator.requests();
  const { database } = await client(europe.endpoint).databases.createIfNotExists({ id: 'shared-store' });
  const { container } = await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/pk'] } });
  await container.items.create({ id: 'written-regionally', pk: 'a' });
  const { resource } = await client(emulator.endpoint).database('shared-store').container('items').item('written-regionally', 'a').read<{ id: string }>();
  expect(resource?.id).toBe('written-regionally');
  expect(emulator.requests()).toBeGreaterThan(before + 3);
});

it("names every region of the 16 geographies as Cosmos does, and each name normalises back to the region's", () => {
  const regions = GEOGRAPHIES.flatMap((g) => g.regions);
  expect(regions.filter((region) => REGION_DISPLAY_NAMES[region] === undefined)).toEqual([]);
  for (const [region, name] of Object.entries(REGION_DISPLAY_NAMES)) expect(normaliseRegion(name)).toBe(region);
});
