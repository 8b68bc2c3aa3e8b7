import { describe, expect, it } from 'vitest';
import { operationName } from '../../shared/oplog/operation-names.js';
import { collectSubjectIds, phoneRawId } from '../../shared/oplog/subject-ids.js';
import { normalizeSubjects, privacyRequestBodySchema, subjectHash } from '../../shared/privacy/privacy-subjects.js';

describe('the people an operation involves', () => {
  it('are found as raw ids in identifier models, raw id strings and phone number models, nowhere else', () => {
    const body = {
      participants: [
        { communicationIdentifier: { rawId: '8:acs:r_1', communicationUser: { id: '8:acs:r_1' } }, displayName: 'Ann' },
        { communicationIdentifier: { phoneNumber: { value: '+14255550123' } } },
      ],
      topic: 'call 8:acs:r_2 later',
      content: '4:+1',
    };
    expect([...collectSubjectIds(body)].sort()).toEqual(['4:+14255550123', '8:acs:r_1']);
    expect(phoneRawId('+1 (425) 555-0123')).toBe('4:+14255550123');
  });

  it('are named by the ACS operation names, with a fallback for routes not listed', () => {
    expect(operationName('chatMessages', 'post')).toBe('SendChatMessage');
    expect(operationName('somethingNew', 'GET')).toBe('somethingNew.GET');
  });
});

describe('privacy request subjects', () => {
  it('are de-duplicated and keyed as the stores file them', () => {
    const subjects = normalizeSubjects({ identityIds: ['8:acs:r_1', '8:acs:r_1'], phoneNumbers: ['+14255550123'], emails: ['Ann@Example.com', 'ann@example.com'] });
    expect(subjects.keys).toEqual(['8:acs:r_1', '4:+14255550123', 'ann@example.com']);
  });

  it('hash per resource with the key, so receipts of two resources cannot be linked', () => {
    const key = 'k'.repeat(32);
    expect(subjectHash(key, 'r1', 'ann@example.com')).toBe(subjectHash(key, 'r1', 'Ann@Example.com'));
    expect(subjectHash(key, 'r1', 'ann@example.com')).not.toBe(subjectHash(key, 'r2', 'ann@example.com'));
    expect(subjectHash('x'.repeat(32), 'r1', 'ann@example.com')).not.toBe(subjectHash(key, 'r1', 'ann@example.com'));
    expect(subjectHash(key, 'r1', 'ann@example.com')).not.toContain('ann');
  });

  it('must name someone, in the right form', () => {
    expect(privacyRequestBodySchema.safeParse({ action: 'export', subjects: { emails: ['a@b.example'] } }).success).toBe(true);
    expect(privacyRequestBodySchema.safeParse({ action: 'export', subjects: { identityIds: [], phoneNumbers: [] } }).success).toBe(false);
    const bad = privacyRequestBodySchema.safeParse({ action: 'export', subjects: { phoneNumbers: ['+1425555012345678'] } });
    expect(bad.success || bad.error.issues[0]!.path.join('.')).toBe('subjects.phoneNumbers.0');
  });
});
