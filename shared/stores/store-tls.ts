import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';

/**
 * The certificate authorities the store clients (Cosmos DB, Blob Storage, Event Grid) trust: the
 * system's, plus, only when the local stack passes it in code (ServiceOverrides.trustedCertificates),
 * the self-signed certificate of its HTTPS emulators. No app setting can add one, so in Azure the
 * clients trust exactly what Node trusts; certificate checks are never turned off.
 */
export interface StoreTls {
  /** For core-rest-pipeline clients (`tlsOptions`): undefined means Node's defaults. */
  tlsOptions?: { ca: string[] };
  /** For the Cosmos client (`agent`), which takes an HTTPS agent. */
  httpsAgent(): Agent | undefined;
}

export function storeTls(extraCertificates: string | undefined): StoreTls {
  if (!extraCertificates) return { httpsAgent: () => undefined };
  const ca = [...rootCertificates, extraCertificates];
  let agent: Agent | undefined;
  return {
    tlsOptions: { ca },
    httpsAgent: () => (agent ??= new Agent({ ca, keepAlive: true })),
  };
}
