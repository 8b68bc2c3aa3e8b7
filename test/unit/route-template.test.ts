import { describe, expect, it } from 'vitest';
import { compareRoutes, compileRoute, matchRoute } from '../../local/route-template.js';

describe('route templates (Functions host rules)', () => {
  it('matches literals case-insensitively and decodes parameters', () => {
    const route = compileRoute('api/management/resources/{name}');
    expect(matchRoute(route, 'API/Management/resources/my%20res')).toEqual({ name: 'my res' });
    expect(matchRoute(route, 'api/management/resources')).toBeUndefined();
    expect(matchRoute(route, 'api/management/resources/a/b')).toBeUndefined();
  });

  it('matches ACS action segments such as /:issueAccessToken with encoded ids', () => {
    const route = compileRoute('identities/{id}/:issueAccessToken');
    expect(matchRoute(route, 'identities/8%3Aacs%3Ar_1/:issueAccessToken')).toEqual({ id: '8:acs:r_1' });
    expect(matchRoute(route, 'identities/8%3Aacs%3Ar_1/:revokeAccessTokens')).toBeUndefined();
  });

  it('applies constraints, optional parameters, defaults and catch-alls', () => {
    expect(matchRoute(compileRoute('items/{id:int}'), 'items/12')).toEqual({ id: '12' });
    expect(matchRoute(compileRoute('items/{id:int}'), 'items/x')).toBeUndefined();
    expect(matchRoute(compileRoute('items/{id:guid}'), 'items/0f8fad5b-d9cb-469f-a165-70867728950e')).toEqual({ id: '0f8fad5b-d9cb-469f-a165-70867728950e' });
    expect(matchRoute(compileRoute('items/{id:length(2,3)}'), 'items/abcd')).toBeUndefined();
    expect(matchRoute(compileRoute('items/{name?}'), 'items')).toEqual({});
    expect(matchRoute(compileRoute('items/{name=all}'), 'items')).toEqual({ name: 'all' });
    expect(matchRoute(compileRoute('files/{*path}'), 'files/a/b%20c/d')).toEqual({ path: 'a/b c/d' });
    expect(matchRoute(compileRoute('{*path}'), '')).toEqual({});
    expect(matchRoute(compileRoute('docs/{file}.json'), 'docs/readme.json')).toEqual({ file: 'readme' });
  });

  it('orders the most specific route first', () => {
    const templates = ['{*path}', 'items/{id}', 'items/{id:int}', 'items/special', 'items/{file}.json'];
    const sorted = templates.map(compileRoute).sort(compareRoutes).map((r) => r.template);
    expect(sorted).toEqual(['items/special', 'items/{file}.json', 'items/{id:int}', 'items/{id}', '{*path}']);
  });

  it('rejects malformed templates', () => {
    expect(() => compileRoute('items/{id')).toThrow(/Unbalanced/);
    expect(() => compileRoute('files/{*path}/more')).toThrow(/catch-all/);
    expect(() => compileRoute('items/{id:nonsense}')).not.toThrow();
    expect(() => matchRoute(compileRoute('items/{id:nonsense}'), 'items/1')).toThrow(/Unsupported route constraint/);
  });
});
