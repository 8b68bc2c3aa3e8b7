import { ChatClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { createResource, measure, sdkOptions, startBenchStack, summarize, TIMERS_OFF } from './bench-stack.js';

/** About one store round trip within an Azure region (loopback has none). */
const ROUND_TRIP_MS = 5;
const PARTICIPANTS = 229;
const THREADS = 5;

/**
 * Creating a chat thread with many participants, with every store request answered after
 * ROUND_TRIP_MS (the embedded Cosmos server's `latencyMs`), so the store round trips a request makes
 * one after another show in its latency: each participant's membership is an item in its own
 * partition. Also the store requests per thread, counted at the server.
 */
export async function threadCreateBench(): Promise<string[]> {
  const stack = await startBenchStack({ RATE_LIMIT_IDENTITY_CREATE: '100000000', ...TIMERS_OFF }, { cosmosLatencyMs: ROUND_TRIP_MS });
  try {
    const resource = await createResource(stack, 'bench-thread-create', 'Europe');
    const options = sdkOptions(stack);
    const identities = new CommunicationIdentityClient(resource.connectionString, options);
    const endpoint = resource.connectionString.replace(/^endpoint=/, '').split(';')[0]!;
    const { token } = await identities.createUserAndToken(['chat']);
    const chat = new ChatClient(endpoint, new AzureCommunicationTokenCredential(token), options);
    const others = await Promise.all(Array.from({ length: PARTICIPANTS }, () => identities.createUser()));
    const participants = others.map((id) => ({ id }));
    await chat.createChatThread({ topic: 'warm-up' }, { participants: participants.slice(0, 2) });
    const before = stack.cosmosRequests!();
    const created = await measure(THREADS, 1, () => chat.createChatThread({ topic: 'crowd' }, { participants }));
    const perThread = (stack.cosmosRequests!() - before) / THREADS;
    return [`${summarize(`create a thread of ${PARTICIPANTS + 1} (store round trip ${ROUND_TRIP_MS} ms)`, created)}  ${perThread.toFixed(0)} store requests per thread`];
  } finally {
    await stack.stop();
  }
}
