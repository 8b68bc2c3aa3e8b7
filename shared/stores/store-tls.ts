import { Agent } from 'node:https';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

/**
 * The certificate authorities the store clients (Cosmos DB, Blob Storage, Event Grid) trust: the
 * system's, plus, only when the local stack passes it in code (ServiceOverrides.trustedCertificates),
 * the self-signed certificate of its HTTPS emulators. No app setting can add one, so in Azure the
 * clients trust exactly what Node trusts; certificate checks are never turned off.
 */
export interface StoreTls {
  /**
   * For core-rest-pipeline clients (`tlsOptions`): undefined means Node's defaults. The pipeline spreads
   * these into its HTTPS agent's options, so the `secureContext` (the same authorities, built once)
   * reaches every connection the agent opens.
   */
  tlsOptions?: { ca: string[]; secureContext: SecureContext };
  /** For the Cosmos client (`agent`), which takes an HTTPS agent. */
  httpsAgent(): Agent | undefined;
}

export function storeTls(extraCertificates: string | undefined): StoreTls {
  if (!extraCertificates) return { httpsAgent: () => undefined };
  const ca = [...rootCertificates, extraCertificates];
  // Without a context of its own, every TLS connection parses the ~150 authorities again (Node's
  // tls.connect builds one per connection from `ca`): a few milliseconds of CPU each.
  const secureContext = createSecureContext({ ca });
  let agent: Agent | undefined;
  return {
    tlsOptions: { ca, secureContext },
    httpsAgent: () => (agent ??= new Agent({ ca, secureContext, keepAlive: true })),
  };
}
