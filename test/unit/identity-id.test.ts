import { describe, expect, it } from 'vitest';
import { isAcsUserId, MAX_IDENTITY_ID_LENGTH, newIdentityId, resourceIdOf } from '../../shared/identity/identity-id.js';

describe('communication user ids', () => {
  it('name their resource: the part between 8:acs: and the first underscore, when there is one', () => {
    expect(resourceIdOf(newIdentityId('res-1'))).toBe('res-1');
    expect(resourceIdOf('8:acs:res-1_a_b')).toBe('res-1');
    for (const id of ['8:acs:_unique', '8:acs:nounderscore', 'x8:acs:res_unique', '8:orgid:res_unique', '']) expect(resourceIdOf(id), id).toBeUndefined();
  });

  it('are well formed with 8:acs:, a resource part and a unique part of word characters and hyphens, up to 256 characters', () => {
    const at = (length: number) => `8:acs:r_${'u'.repeat(length - '8:acs:r_'.length)}`;
    expect(MAX_IDENTITY_ID_LENGTH).toBe(256);
    expect(isAcsUserId(at(256))).toBe(true);
    expect(isAcsUserId(at(257))).toBe(false);
    expect(isAcsUserId(newIdentityId('0f1e2d3c-aaaa-bbbb-cccc-000000000000'))).toBe(true);
    for (const id of ['x8:acs:r_u', '8:acs:r_u!', '8:acs:r_u\n', '8:acs:ru', '8:acs:r_', '8:acs:_u', ' 8:acs:r_u', '8:acs:r/x_u']) expect(isAcsUserId(id), JSON.stringify(id)).toBe(false);
  });
});
