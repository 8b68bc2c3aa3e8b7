import type { TokenCredential } from '@azure/core-auth';

/** Gives the Microsoft Entra credential keyless store clients use; creates it on first use. */
export type CredentialSource = () => Promise<TokenCredential>;

/**
 * The app's Entra credential, created on first use (importing @azure/identity costs start-up time):
 * with AZURE_CLIENT_ID the user-assigned managed identity, otherwise DefaultAzureCredential's chain
 * (system-assigned identity in Azure, a developer's `az login` locally). Tests pass their own.
 */
export function lazyAzureCredential(clientId: string | undefined, given?: TokenCredential): CredentialSource {
  let credential: Promise<TokenCredential> | undefined = given ? Promise.resolve(given) : undefined;
  return () => {
    credential ??= import('@azure/identity').then(({ DefaultAzureCredential, ManagedIdentityCredential }) =>
      clientId ? new ManagedIdentityCredential({ clientId }) : new DefaultAzureCredential(),
    );
    return credential;
  };
}
