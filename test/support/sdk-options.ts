import { Agent } from 'node:https';
import type { TestStack } from './test-stack.js';

/**
 * Client options for the official ACS SDKs against the test stack: over HTTPS, trusting only the
 * development host's self-signed certificate (set as the request's agent); over HTTP, with the
 * SDKs' own `allowInsecureConnection`.
 */
export function trustDevCertificate(stack: TestStack) {
  const agent = new Agent({ ca: stack.tls.cert, keepAlive: true });
  return {
    additionalPolicies: [
      {
        position: 'perCall' as const,
        policy: {
          name: 'trustDevCertificate',
          sendRequest: (request: { agent?: unknown }, next: (r: never) => Promise<unknown>) => {
            request.agent = agent;
            return next(request as never);
          },
        },
      },
    ],
  };
}

/** The resource's connection string, pointed at the plain-HTTP listener. */
export function httpConnectionString(stack: TestStack, connectionString: string): string {
  const https = new URL(stack.httpsUrl).origin;
  return connectionString.replace(https, new URL(stack.httpUrl).origin);
}
