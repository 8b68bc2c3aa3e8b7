import { beforeAll, describe, expect, it } from 'vitest';
import { infraCatalogue } from '../../local/infra-catalogue.js';
import { parseInfra, type BicepFile } from './support/bicep-parser.js';
import { azdUp, DEFAULT_AZD_ENV, type AzdUp } from './support/azd-up.js';
import { boundaryProblems, geographyGroup, settingsProblems, storeProblems, type ExpectedDeployment } from './support/invariants.js';
import { toJson } from './support/bicep-evaluator.js';

/**
 * `azd up` evaluated from the parse tree for several ENABLED_GEOGRAPHIES: one resource group per
 * geography in its regions, pinned accounts, lifecycle backstops, keyless access, both policies, the
 * landing subscription, every store the app declares and every setting strict residency needs.
 */
const catalogue = infraCatalogue();
let files: Map<string, BicepFile>;
beforeAll(async () => {
  files = await parseInfra();
});

const expectedFor = (geographyKeys: string[]): ExpectedDeployment => ({ catalogue, geographyKeys, environmentName: DEFAULT_AZD_ENV.AZURE_ENV_NAME, location: DEFAULT_AZD_ENV.AZURE_LOCATION });

const cases: { label: string; env: Record<string, string>; keys: string[] }[] = [
  { label: 'the default (Europe)', env: {}, keys: ['europe'] },
  { label: 'names and keys, spaces and case (Europe, japan, United States)', env: { ENABLED_GEOGRAPHIES: ' Europe, japan,United States ,' }, keys: ['europe', 'japan', 'unitedstates'] },
  { label: 'a repeated geography (uk, United Kingdom)', env: { ENABLED_GEOGRAPHIES: 'uk,United Kingdom' }, keys: ['uk'] },
  { label: 'every geography, with VNet integration, ZRS and zone-redundant backups', env: { ENABLED_GEOGRAPHIES: Object.keys(catalogue.geographies).join(','), VNET_ENABLED: 'true', GEO_STORAGE_SKU: 'Standard_ZRS', COSMOS_BACKUP_REDUNDANCY: 'Zone' }, keys: Object.keys(catalogue.geographies) },
  { label: 'developer data access', env: { ENABLED_GEOGRAPHIES: 'Switzerland', DEVELOPER_DATA_ACCESS: 'true' }, keys: ['switzerland'] },
];

describe.each(cases)('azd up with $label', ({ env, keys }) => {
  let up: AzdUp;
  beforeAll(async () => {
    up = await azdUp(files, env);
  });

  it('keeps every promise of the residency boundary', () => {
    expect(boundaryProblems(up, expectedFor(keys))).toEqual([]);
  });

  it('declares every database, container, partition key, composite index and blob container the app uses', () => {
    expect(storeProblems(up)).toEqual([]);
  });

  it('sets every setting the app needs to start in strict residency, keyless', () => {
    expect(settingsProblems(up, expectedFor(keys))).toEqual([]);
  });

  it('pins each geography\'s Cosmos DB account to exactly the regions of the geography table, primary first', () => {
    for (const key of keys) {
      const account = up.resources.find((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts' && r.scope.resourceGroup === geographyGroup(expectedFor(keys), key))!;
      const locations = (toJson(account.body.properties!) as { locations: { locationName: string; failoverPriority: number }[] }).locations;
      expect(locations.map((l) => [l.locationName, l.failoverPriority])).toEqual(catalogue.geographies[key]!.regions.map((region, i) => [region, i]));
    }
  });
});

describe('azd up, what it refuses', () => {
  it('fails on a geography that does not exist', async () => {
    await expect(azdUp(files, { ENABLED_GEOGRAPHIES: 'Europe,Atlantis' })).rejects.toThrow(/no property 'atlantis'/);
  });

  it('refuses a geo-redundant SKU or backup through the parameters', async () => {
    await expect(azdUp(files, { GEO_STORAGE_SKU: 'Standard_GRS' })).rejects.toThrow(/geoStorageSku.*not one of/);
    await expect(azdUp(files, { COSMOS_BACKUP_REDUNDANCY: 'Geo' })).rejects.toThrow(/cosmosBackupRedundancy.*not one of/);
  });

  it('gives the developer data access only when asked', async () => {
    const principal = DEFAULT_AZD_ENV.AZURE_PRINCIPAL_ID;
    const withPrincipal = (up: AzdUp) => up.resources.filter((r) => JSON.stringify(toJson(r.body)).includes(principal)).map((r) => r.type);
    expect(withPrincipal(await azdUp(files, {}))).toEqual([]);
    const granted = withPrincipal(await azdUp(files, { DEVELOPER_DATA_ACCESS: 'true' }));
    expect(granted.filter((t) => t === 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments')).toHaveLength(2);
    expect(granted.filter((t) => t === 'Microsoft.Authorization/roleAssignments')).toHaveLength(2);
  });
});
