import { HttpRequest } from '@azure/functions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RequestScope } from '../../shared/http/route-handler.js';
import { jsonOf, parseJsonBody } from '../../shared/http/request-body.js';
import { noteRequestSubjects } from '../../shared/oplog/request-subjects.js';

const request = (contentType?: string) =>
  new HttpRequest({ url: 'http://localhost/chat/threads', method: 'POST', headers: contentType ? { 'content-type': contentType } : {} });

afterEach(() => vi.restoreAllMocks());

describe('a JSON request body', () => {
  it('is parsed once for the operation log and the handler: both read the same value', () => {
    const body = Buffer.from(JSON.stringify({ participants: [{ communicationIdentifier: { rawId: '8:acs:r_a' } }] }));
    const scope = { request: request('application/json'), operation: { subjects: new Set<string>() } } as unknown as RequestScope;
    const parse = vi.spyOn(JSON, 'parse');
    noteRequestSubjects(scope, body);
    const value = parseJsonBody(scope.request, body);
    expect([...scope.operation.subjects]).toEqual(['8:acs:r_a']);
    expect(value).toEqual({ participants: [{ communicationIdentifier: { rawId: '8:acs:r_a' } }] });
    expect(parse).toHaveBeenCalledTimes(1);
    // Another body with the same bytes is parsed for itself.
    expect(jsonOf(Buffer.from(body))).not.toBe(jsonOf(body));
    expect(parse).toHaveBeenCalledTimes(2);
  });

  it('that is not JSON is refused once it reaches the handler, and remembered as such', () => {
    const body = Buffer.from('{"a":');
    const json = request('application/json');
    const parse = vi.spyOn(JSON, 'parse');
    expect(jsonOf(body)).toEqual({ ok: false });
    expect(() => parseJsonBody(json, body)).toThrow(expect.objectContaining({ code: 'BadRequest', message: 'The request body is not valid JSON.' }));
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('is undefined when empty, and refused without a JSON content type, naming Content-Type', () => {
    expect(parseJsonBody(request(), Buffer.alloc(0))).toBeUndefined();
    expect(parseJsonBody(request('application/merge-patch+json'), Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(() => parseJsonBody(request('text/plain'), Buffer.from('{}'))).toThrow(
      expect.objectContaining({ code: 'UnsupportedMediaType', target: 'Content-Type', message: "Content-Type must be application/json, not 'text/plain'." }),
    );
    expect(() => parseJsonBody(request(), Buffer.from('{}'))).toThrow(expect.objectContaining({ code: 'UnsupportedMediaType', message: "Content-Type must be application/json, not 'none'." }));
  });
});
