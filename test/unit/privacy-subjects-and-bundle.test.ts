import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBlob, type EmbeddedBlob } from '../../local/emulators/azurite-blob.js';
import { appendToBundle, commitBundle, emptyBundle } from '../../shared/privacy/result-bundle.js';
import { normalizeSubjects, privacyRequestBodySchema, privacySubjectsSchema, subjectHash } from '../../shared/privacy/privacy-subjects.js';

/**
 * The exact rules of a data subject request's subjects (what is refused, with which message; how they
 * are de-duplicated and keyed; how receipts hash them), and the result document's bytes as the
 * storage service commits them (the embedded Azurite).
 */

/** The first problem zod reports: its message and path. */
function refusal(schema: typeof privacySubjectsSchema | typeof privacyRequestBodySchema, value: unknown): { message: string; path: string } | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0]!;
  return { message: issue.message, path: issue.path.join('.') };
}

const user = (n: number) => `8:acs:00000000-0000-4000-8000-000000000001_${String(n).padStart(8, '0')}-0000-0000-0000-000000000000`;

describe('the subjects of a request', () => {
  it('refuses each malformed kind with its own message, naming the field', () => {
    expect(refusal(privacySubjectsSchema, { identityIds: ['nope'] })).toEqual({ message: "identityIds must be communication user ids ('8:acs:...')", path: 'identityIds.0' });
    expect(refusal(privacySubjectsSchema, { identityIds: 'x' })).toEqual({ message: 'identityIds must be a list of communication user ids', path: 'identityIds' });
    expect(refusal(privacySubjectsSchema, { phoneNumbers: ['14255550123'] })).toEqual({ message: 'phoneNumbers must be E.164 numbers such as +14255550123', path: 'phoneNumbers.0' });
    expect(refusal(privacySubjectsSchema, { phoneNumbers: 5 })).toEqual({ message: 'phoneNumbers must be a list of E.164 numbers', path: 'phoneNumbers' });
    expect(refusal(privacySubjectsSchema, { emails: ['not-an-address'] })).toEqual({ message: 'emails must be e-mail addresses', path: 'emails.0' });
    expect(refusal(privacySubjectsSchema, { emails: {} })).toEqual({ message: 'emails must be a list of e-mail addresses', path: 'emails' });
    expect(refusal(privacySubjectsSchema, 'x')).toEqual({ message: 'subjects must be an object with identityIds, phoneNumbers and/or emails', path: '' });
    expect(refusal(privacySubjectsSchema, {})).toEqual({ message: 'subjects must name at least one identity id, phone number or e-mail address', path: '' });
    expect(refusal(privacyRequestBodySchema, { action: 'explode', subjects: { emails: ['a@b.example'] } })).toEqual({ message: "action must be 'inventory', 'export' or 'delete'", path: 'action' });
  });

  it('takes E.164 numbers of 7 to 15 digits, anchored at both ends', () => {
    for (const ok of ['+1425555', '+142555501234567']) expect(refusal(privacySubjectsSchema, { phoneNumbers: [ok] }), ok).toBeUndefined();
    for (const bad of ['+142555', '+1425555012345678', '+0425555012', 'x+14255550123', '+14255550123x']) expect(refusal(privacySubjectsSchema, { phoneNumbers: [bad] })?.path, bad).toBe('phoneNumbers.0');
  });

  it('takes at most 100 of each kind', () => {
    const phones = (n: number) => Array.from({ length: n }, (_, i) => `+1425555${String(i).padStart(4, '0')}`);
    const emails = (n: number) => Array.from({ length: n }, (_, i) => `p${i}@contoso.example`);
    const ids = (n: number) => Array.from({ length: n }, (_, i) => user(i));
    expect(refusal(privacySubjectsSchema, { identityIds: ids(100), phoneNumbers: phones(100), emails: emails(100) })).toBeUndefined();
    expect(refusal(privacySubjectsSchema, { identityIds: ids(101) })).toEqual({ message: 'at most 100 identityIds', path: 'identityIds' });
    expect(refusal(privacySubjectsSchema, { phoneNumbers: phones(101) })).toEqual({ message: 'at most 100 phoneNumbers', path: 'phoneNumbers' });
    expect(refusal(privacySubjectsSchema, { emails: emails(101) })).toEqual({ message: 'at most 100 emails', path: 'emails' });
  });

  it('needs one subject of any kind, and one of each pair is enough', () => {
    expect(refusal(privacySubjectsSchema, { identityIds: [user(1)], phoneNumbers: ['+14255550123'] })).toBeUndefined();
    expect(refusal(privacySubjectsSchema, { emails: ['a@b.example'] })).toBeUndefined();
    expect(refusal(privacySubjectsSchema, { phoneNumbers: ['+14255550123'] })).toBeUndefined();
  });

  it('are de-duplicated, e-mail addresses trimmed and in lower case, and keyed as the stores file them', () => {
    const normalized = normalizeSubjects({ identityIds: [user(1), user(1)], phoneNumbers: ['+14255550123', '+14255550123'], emails: ['Alice@Contoso.example', ' alice@contoso.example ', 'bob@contoso.example'] });
    expect(normalized).toEqual({
      identityIds: [user(1)],
      phoneNumbers: ['+14255550123'],
      emails: ['alice@contoso.example', 'bob@contoso.example'],
      keys: [user(1), '4:+14255550123', 'alice@contoso.example', 'bob@contoso.example'],
    });
  });

  it('hash per key and resource, whatever the case and surrounding space of the subject', () => {
    const key = 'k'.repeat(32);
    const hash = subjectHash(key, 'resource-a', 'alice@contoso.example');
    expect(hash).toBe(subjectHash(key, 'resource-a', ' Alice@CONTOSO.example '));
    expect(hash).toMatch(/^sh:[\w-]{32}$/);
    // A fixed vector: a change of the hashed text (its prefix, separators or case folding) changes it.
    expect(hash).toBe(GOLDEN);
    expect(subjectHash(key, 'resource-b', 'alice@contoso.example')).not.toBe(hash);
    expect(subjectHash('j'.repeat(32), 'resource-a', 'alice@contoso.example')).not.toBe(hash);
  });
});
/**
 * HMAC-SHA256 of "privacy-subject\0<resource id>\0<subject in lower case>", base64url, 32 characters:
 * receipts already handed out are checked against it, so it may never change.
 */
const GOLDEN = 'sh:5Kf1y6nVuQnlFm4YFKiEjrY3KZC8FeD_';

describe('the result document', () => {
  let blob: EmbeddedBlob;
  let container: ContainerClient;
  beforeAll(async () => {
    blob = await startEmbeddedBlob(0);
    container = BlobServiceClient.fromConnectionString(blob.connectionString).getContainerClient('exports');
    await container.create();
  });
  afterAll(async () => blob?.stop());

  it('is committed whole: the header, each section in order, every section named (empty ones as []), as JSON of exactly the size reported', async () => {
    const file = container.getBlockBlobClient('r/one.json');
    let state = emptyBundle();
    state = await appendToBundle(file, state, 'messages', [{ n: 1 }, { n: 2 }]);
    state = await appendToBundle(file, state, 'messages', [{ n: 3 }]);
    const unchanged = await appendToBundle(file, state, 'recordings', []);
    expect(unchanged).toBe(state);
    state = await appendToBundle(file, state, 'identities', [{ id: 'ü' }]);
    expect(state).toEqual({ blocks: 3, bytes: Buffer.byteLength('"messages":[{"n":1},{"n":2}' + ',{"n":3}' + '],"identities":[{"id":"ü"}'), openSection: 'identities', sectionItems: 1, sections: ['messages', 'identities'] });
    const size = await commitBundle(file, state, { requestId: 'r1', counts: { messages: 3 } }, ['identities', 'messages', 'recordings', 'logs'], { tags: { purpose: 'export' } });
    const text = (await file.downloadToBuffer()).toString('utf8');
    expect(text).toBe('{"requestId":"r1","counts":{"messages":3},"data":{"messages":[{"n":1},{"n":2},{"n":3}],"identities":[{"id":"ü"}],"recordings":[],"logs":[]}}');
    expect(size).toBe(Buffer.byteLength(text));
    const properties = await file.getProperties();
    expect([properties.contentType, properties.contentLength]).toEqual(['application/json', size]);
    expect((await file.getTags()).tags).toEqual({ purpose: 'export' });
  });

  it('with nothing appended holds every section empty', async () => {
    const file = container.getBlockBlobClient('r/empty.json');
    const size = await commitBundle(file, emptyBundle(), { requestId: 'r2' }, ['a', 'b'], { tags: {} });
    const text = (await file.downloadToBuffer()).toString('utf8');
    expect(text).toBe('{"requestId":"r2","data":{"a":[],"b":[]}}');
    expect(size).toBe(text.length);
  });
});
