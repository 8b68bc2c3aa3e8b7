import { Agent } from 'node:https';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { parseSettings } from '../shared/config/settings.js';
import { createServices } from '../shared/services.js';
import { createResource, measure, startBenchStack, summarize, TIMERS_OFF } from './bench-stack.js';

/** Token issuance (through the local host, with the official SDK) and verification rates. */
export async function identityBench(): Promise<string[]> {
  const stack = await startBenchStack({ RATE_LIMIT_IDENTITY_CREATE: '100000000', ...TIMERS_OFF });
  const lines: string[] = [];
  try {
    const resource = await createResource(stack, 'bench-identity', 'Europe');
    const agent = new Agent({ ca: stack.tls.cert, keepAlive: true });
    const client = new CommunicationIdentityClient(resource.connectionString, {
      additionalPolicies: [{ position: 'perCall', policy: { name: 'ca', sendRequest: (r, next) => ((r.agent = agent), next(r)) } }],
    });
    const user = await client.createUser();
    for (const concurrency of [1, 8]) {
      const issued = await measure(400, concurrency, () => client.getToken(user, ['chat', 'voip']));
      lines.push(summarize(`issue token via SDK over HTTPS (concurrency ${concurrency})`, issued));
    }

    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getToken(user, ['chat'])));
    for (const cacheMs of [0, 5000]) {
      const svc = createServices(parseSettings({ ...stack.env, TOKEN_REVOCATION_CACHE_MS: String(cacheMs) }));
      const resolved = (await svc.resources.resolveActive(resource.name))!;
      await svc.identities.verify(resolved, tokens[0]!.token);
      for (const concurrency of [1, 8]) {
        const verified = await measure(2000, concurrency, (i) => svc.identities.verify(resolved, tokens[i % tokens.length]!.token));
        lines.push(summarize(`verify token (revocation cache ${cacheMs} ms, concurrency ${concurrency})`, verified));
      }
      svc.dispose();
    }
  } finally {
    await stack.stop();
  }
  return lines;
}
