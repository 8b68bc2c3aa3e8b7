import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INFRA_CATALOGUE_FILE, infraCatalogue, infraCatalogueText } from '../../local/infra-catalogue.js';
import { GEOGRAPHIES } from '../../shared/geography/geographies.js';
import { GEO_CONTAINERS, CONTROL_CONTAINERS } from '../../shared/stores/store-catalogue.js';
import { REPO_ROOT } from './support/bicep-parser.js';

/** infra/catalogue.json is the app's geography table and store catalogue, as `npm run infra:catalogue` writes them. */
describe('infra/catalogue.json', () => {
  it('is exactly what npm run infra:catalogue generates (run it after changing geographies.ts or store-catalogue.ts)', () => {
    expect(readFileSync(join(REPO_ROOT, INFRA_CATALOGUE_FILE), 'utf8')).toBe(infraCatalogueText());
  });

  it('holds the geography table: every geography, its regions in order, primary first', () => {
    const catalogue = infraCatalogue();
    expect(Object.values(catalogue.geographies).map((g) => [g.key, g.name, g.regions])).toEqual(GEOGRAPHIES.map((g) => [g.key, g.name, [...g.regions]]));
    for (const g of GEOGRAPHIES) {
      expect(catalogue.aliases[g.name.toLowerCase().replace(/[\s_-]+/g, '')]).toBe(g.key);
      expect(catalogue.aliases[g.key]).toBe(g.key);
    }
  });

  it('holds every container with its partition key and composite indexes', () => {
    const catalogue = infraCatalogue();
    expect(catalogue.geoContainers.map((c) => [c.id, c.partitionKey])).toEqual(Object.entries(GEO_CONTAINERS).map(([id, spec]) => [id, spec.partitionKey]));
    expect(catalogue.control.containers.map((c) => [c.id, c.partitionKey])).toEqual(Object.entries(CONTROL_CONTAINERS).map(([id, spec]) => [id, spec.partitionKey]));
    expect(catalogue.geoContainers.find((c) => c.id === 'chatThreads')!.compositeIndexes).toEqual([
      [
        { path: '/kind', order: 'ascending' },
        { path: '/resourceId', order: 'ascending' },
        { path: '/lastActivityAt', order: 'ascending' },
      ],
      [
        { path: '/kind', order: 'ascending' },
        { path: '/resourceId', order: 'ascending' },
        { path: '/policyExpiresAt', order: 'ascending' },
      ],
    ]);
  });

  it('gives each blob container the backstop the README promises: recordings, landing files and e-mail content 2 days, exports 7', () => {
    expect(infraCatalogue().geographies.europe!.blobContainers).toEqual([
      { name: 'acs-europe-exports', role: 'exports', deleteAfterDays: 7 },
      { name: 'acs-europe-recordings', role: 'recordings', deleteAfterDays: 2 },
      { name: 'acs-europe-recording-landing', role: 'recording-landing', deleteAfterDays: 2 },
      { name: 'acs-europe-email-content', role: 'email-content', deleteAfterDays: 2 },
    ]);
  });
});
