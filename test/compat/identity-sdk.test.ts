import { CommunicationIdentityClient } from '@azure/communication-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { httpConnectionString, trustDevCertificate } from '../support/sdk-options.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

let stack: TestStack;
let resource: ResourceView;
let other: ResourceView;

beforeAll(async () => {
  stack = await startTestStack();
  resource = await stack.createResource('identity-sdk', 'Europe');
  other = await stack.createResource('identity-sdk-other', 'Japan');
});
afterAll(async () => {
  await stack?.stop();
});

const clients = () => [
  ['HTTPS', new CommunicationIdentityClient(resource.connectionString, trustDevCertificate(stack) as never)],
  ['HTTP', new CommunicationIdentityClient(httpConnectionString(stack, resource.connectionString), { allowInsecureConnection: true })],
] as const;

describe.each([0, 1])('official @azure/communication-identity client (%s: 0 = HTTPS, 1 = HTTP)', (index) => {
  const client = () => clients()[index]![1];

  it('createUser returns an ACS user id of this resource', async () => {
    const user = await client().createUser();
    expect(user.communicationUserId).toMatch(new RegExp(`^8:acs:${resource.id}_[0-9a-f-]{36}$`));
  });

  it('createUserAndToken without tokenExpiresInMinutes issues a 24-hour JWT with the scopes and residency claims', async () => {
    const { user, token, expiresOn } = await client().createUserAndToken(['chat', 'voip']);
    const claims = decodeJwt(token);
    expect(claims.sub).toBe(user.communicationUserId);
    expect(claims).toMatchObject({ acsScope: 'chat,voip', resourceId: resource.id, geography: 'Europe' });
    expect(claims.exp! - claims.iat!).toBe(1440 * 60);
    expect(Math.abs(expiresOn.getTime() - claims.exp! * 1000)).toBeLessThan(1000);
    // expiresOn is the token's exp, to the second.
    expect(expiresOn.getTime()).toBe(claims.exp! * 1000);
  });

  it('createUserAndToken with tokenExpiresInMinutes honours it', async () => {
    const { token, expiresOn } = await client().createUserAndToken(['chat.join'], { tokenExpiresInMinutes: 60 });
    const claims = decodeJwt(token);
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(expiresOn.getTime()).toBe(claims.exp! * 1000);
    expect(claims.acsScope).toBe('chat.join');
  });

  it('getToken, revokeTokens and deleteUser succeed for an existing identity', async () => {
    const user = await client().createUser();
    const { token, expiresOn } = await client().getToken(user, ['voip.join', 'chat.join.limited'], { tokenExpiresInMinutes: 120 });
    expect(decodeJwt(token).acsScope).toBe('voip.join,chat.join.limited');
    expect(expiresOn.getTime()).toBeGreaterThan(Date.now() + 119 * 60_000);
    // Exactly the 120 minutes asked for, from the time it was issued.
    const claims = decodeJwt(token);
    expect(claims.exp! - claims.iat!).toBe(120 * 60);
    expect(expiresOn.getTime()).toBe(claims.exp! * 1000);
    await expect(client().revokeTokens(user)).resolves.toBeUndefined();
    await expect(client().deleteUser(user)).resolves.toBeUndefined();
    await expect(client().getToken(user, ['chat'])).rejects.toMatchObject({ statusCode: 404 });
  });

  it('surfaces 404 for an unknown identity, and ACS\'s 401 IdentityNotOwned for an identity of another resource', async () => {
    await expect(client().getToken({ communicationUserId: `8:acs:${resource.id}_00000000-0000-0000-0000-000000000000` }, ['chat'])).rejects.toMatchObject({
      statusCode: 404,
      code: 'NotFound',
      message: "Provided identity doesn't exist.",
    });
    const foreign = await new CommunicationIdentityClient(other.connectionString, trustDevCertificate(stack) as never).createUser();
    for (const call of [() => client().revokeTokens(foreign), () => client().getToken(foreign, ['chat']), () => client().deleteUser(foreign)]) {
      await expect(call()).rejects.toMatchObject({ statusCode: 401, code: 'IdentityNotOwned', message: "Provided identity doesn't belong to the resource." });
    }
  });

  it('surfaces 401 for a wrong key', async () => {
    const wrongKey = resource.connectionString.replace(/accesskey=.*$/, `accesskey=${other.primaryKey}`);
    const wrong = index === 0
      ? new CommunicationIdentityClient(wrongKey, trustDevCertificate(stack) as never)
      : new CommunicationIdentityClient(httpConnectionString(stack, wrongKey), { allowInsecureConnection: true });
    await expect(wrong.createUser()).rejects.toMatchObject({ statusCode: 401, code: 'Unauthorized' });
  });

  it('surfaces 400 for an unknown scope or an expiry out of range', async () => {
    const user = await client().createUser();
    await expect(client().getToken(user, ['email' as never])).rejects.toMatchObject({ statusCode: 400 });
    await expect(client().getToken(user, ['chat'], { tokenExpiresInMinutes: 59 })).rejects.toMatchObject({ statusCode: 400 });
    await expect(client().getToken(user, ['chat'], { tokenExpiresInMinutes: 1441 })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('answers the Teams token exchange as ACS does (the exchange itself: teams-token-sdk.test.ts)', async () => {
    await expect(client().getTokenForTeamsUser({ teamsUserAadToken: 'x', clientId: 'y', userObjectId: 'z' })).rejects.toMatchObject({
      statusCode: 400,
      code: 'ValidationError',
      message: 'Provided AppId has invalid format.',
    });
  });
});
