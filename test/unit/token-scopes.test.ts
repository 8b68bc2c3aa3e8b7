import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../shared/errors/service-error.js';
import { parseCreateIdentityBody, parseIssueTokenBody } from '../../shared/identity/token-scopes.js';

/**
 * The token request bodies: ACS's own first checks (its messages and targets, as its recorded answers
 * show), then the schema's, each refusal exact: message, target and details.
 */
function refusal(parse: () => unknown): { message: string; target?: string; details?: unknown } {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    const { code, message, target, details } = error as ServiceError;
    expect(code).toBe('ValidationError');
    return { message, target, ...(details ? { details } : {}) };
  }
  throw new Error('the body was accepted');
}

const schemaRefusal = (target: string | undefined, message: string) => ({
  message: `Invalid request body: ${target ? `${target}: ` : ''}${message}`,
  target,
  details: [{ code: 'InvalidField', message: target ? `${target}: ${message}` : message, ...(target ? { target } : {}) }],
});

describe('issueAccessToken bodies', () => {
  it('refuses a missing scope list as ACS does, and an empty one with its other message and the field as target', () => {
    expect(refusal(() => parseIssueTokenBody({}))).toEqual({ message: 'Scopes: The Scopes field is required.', target: 'Scopes' });
    expect(refusal(() => parseIssueTokenBody({ expiresInMinutes: 60 }))).toEqual({ message: 'Scopes: The Scopes field is required.', target: 'Scopes' });
    expect(refusal(() => parseIssueTokenBody({ scopes: [] }))).toEqual({ message: 'Invalid scopes - Scopes field is required.', target: 'scopes' });
  });

  it('refuses scopes that are not a list, and names an unknown scope and its place', () => {
    expect(refusal(() => parseIssueTokenBody({ scopes: 'chat' }))).toEqual(schemaRefusal('scopes', 'scopes is required: a list of token scopes'));
    expect(refusal(() => parseIssueTokenBody({ scopes: ['chat', 'admin'] }))).toEqual(
      schemaRefusal('scopes.1', "'admin' is not a token scope; use one of chat, voip, chat.join, chat.join.limited, voip.join"),
    );
  });

  it('takes 60 and 1440 minutes and refuses 59 and 1441 with ACS message and target', () => {
    for (const minutes of [60, 1440]) expect(parseIssueTokenBody({ scopes: ['chat'], expiresInMinutes: minutes })).toEqual({ scopes: ['chat'], expiresInMinutes: minutes });
    for (const minutes of [59, 1441, 0, -60]) {
      expect(refusal(() => parseIssueTokenBody({ scopes: ['chat'], expiresInMinutes: minutes }))).toEqual({
        message: `ExpiresInMinutes value ${minutes} is invalid. Value must be within the [60, 1440] interval.`,
        target: 'ExpiresInMinutes',
      });
    }
  });

  it('refuses minutes that are not a whole number with the schema message, in or out of range', () => {
    for (const minutes of [120.5, 30.5, 1500.5, '120', true]) {
      expect(refusal(() => parseIssueTokenBody({ scopes: ['chat'], expiresInMinutes: minutes }))).toEqual(
        schemaRefusal('expiresInMinutes', 'expiresInMinutes must be a whole number of minutes'),
      );
    }
  });

  it('refuses a body that is not an object with the schema message, not an ACS one', () => {
    expect(refusal(() => parseIssueTokenBody(null))).toEqual(schemaRefusal(undefined, 'Invalid input: expected object, received null'));
    expect(refusal(() => parseIssueTokenBody([]))).toEqual(schemaRefusal(undefined, 'Invalid input: expected object, received array'));
    expect(refusal(() => parseIssueTokenBody('scopes'))).toEqual(schemaRefusal(undefined, 'Invalid input: expected object, received string'));
  });
});

describe('createIdentity bodies', () => {
  it('takes a body without createTokenWithScopes (an identity without a token)', () => {
    expect(parseCreateIdentityBody({})).toEqual({});
    expect(parseCreateIdentityBody({ createTokenWithScopes: ['voip'], expiresInMinutes: 1440 })).toEqual({ createTokenWithScopes: ['voip'], expiresInMinutes: 1440 });
  });

  it('refuses an empty createTokenWithScopes like empty scopes, naming its own field', () => {
    expect(refusal(() => parseCreateIdentityBody({ createTokenWithScopes: [] }))).toEqual({ message: 'Invalid scopes - Scopes field is required.', target: 'createTokenWithScopes' });
  });

  it('applies the ACS minutes check and the schema to it too', () => {
    expect(refusal(() => parseCreateIdentityBody({ createTokenWithScopes: ['chat'], expiresInMinutes: 59 }))).toEqual({
      message: 'ExpiresInMinutes value 59 is invalid. Value must be within the [60, 1440] interval.',
      target: 'ExpiresInMinutes',
    });
    expect(refusal(() => parseCreateIdentityBody(null))).toEqual(schemaRefusal(undefined, 'Invalid input: expected object, received null'));
    expect(refusal(() => parseCreateIdentityBody([]))).toEqual(schemaRefusal(undefined, 'Invalid input: expected object, received array'));
  });
});
