import { beforeAll, describe, expect, it } from 'vitest';
import { bicepPaths, parseInfra, resourceDeclarations, syntaxProblems, type BicepFile } from './support/bicep-parser.js';
import { ALLOWED_API_VERSIONS, staticProblems } from './support/invariants.js';

/** Every .bicep file parses, declares only allowed resource types at their allowed API versions, and names no geo-redundant SKU or key. */
let files: Map<string, BicepFile>;
beforeAll(async () => {
  files = await parseInfra();
});

describe('infra/*.bicep', () => {
  it('finds the templates: main, the shared part, the geography, the network', () => {
    expect(bicepPaths()).toEqual([
      'app/function-app.bicep',
      'app/identity.bicep',
      'app/monitoring.bicep',
      'data/cosmos-account.bicep',
      'data/storage-account.bicep',
      'geo/events.bicep',
      'geo/geography.bicep',
      'geo/landing-events.bicep',
      'geo/policies.bicep',
      'main.bicep',
      'network/private-endpoint.bicep',
      'network/vnet.bicep',
    ]);
  });

  it.each(bicepPaths())('%s parses without a syntax error', (path) => {
    expect(syntaxProblems(files.get(path)!)).toEqual([]);
  });

  it('reports a syntax error with its place', async () => {
    const { parseBicep } = await import('./support/bicep-parser.js');
    const broken = await parseBicep('broken.bicep', "param a string\nresource r 'Microsoft.Web/sites@2024-11-01' = {\n  name: 'x'\n  properties: {\n}\n");
    const problems = syntaxProblems(broken);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ path: 'broken.bicep' });
  });

  it('declares resources only of allowed types at their allowed API versions, and uses every allowed one', () => {
    const used = new Set<string>();
    for (const file of files.values()) for (const declaration of resourceDeclarations(file)) used.add(`${declaration.type}@${declaration.apiVersion}`);
    expect([...used].sort()).toEqual(Object.entries(ALLOWED_API_VERSIONS).map(([type, version]) => `${type}@${version}`).sort());
  });

  it('has no syntax error, disallowed type or version, geo-redundant SKU, key or connection string', () => {
    expect(staticProblems(files)).toEqual([]);
  });
});
