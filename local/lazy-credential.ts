import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';

/**
 * A Microsoft Entra credential for the development host's identity-based queue connections, as the
 * Functions host builds one: the user-assigned managed identity `clientId` (`<connection>__clientId`)
 * or DefaultAzureCredential's chain (a developer's `az login`); @azure/identity loads on first use.
 */
export function lazyTokenCredential(clientId: string | undefined): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    getToken: async (scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> => {
      credential ??= import('@azure/identity').then(({ DefaultAzureCredential, ManagedIdentityCredential }) =>
        clientId ? new ManagedIdentityCredential({ clientId }) : new DefaultAzureCredential(),
      );
      return (await credential).getToken(scopes, options);
    },
  };
}
