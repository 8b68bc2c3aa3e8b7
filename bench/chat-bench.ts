import { ChatClient, type ChatThreadClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { CosmosClient } from '@azure/cosmos';
import { createResource, measure, sdkOptions, startBenchStack, summarize, TIMERS_OFF } from './bench-stack.js';
import { chatSendComparison } from './chat-send-comparison.js';

const MESSAGES_PER_RUN = 600;
/** About one store round trip within an Azure region (as in thread-create-bench.ts). */
const STORE_ROUND_TRIP_MS = 5;
const CONTENT = 'Benchmark message with a realistic length of text, about one line of chat. '.repeat(2);

/**
 * Send-message throughput and latency through the local host (official chat SDK over HTTPS), at 1, 8
 * and 32 concurrent senders, each sender in its own two-person thread; beside the same number of raw
 * Cosmos item writes of the same size at the same concurrency into the same embedded store, so the
 * service layer's cost shows as a ratio. Also 32 senders in one shared thread (sequence contention and
 * 31 per-recipient events per message). Store requests per send are counted at the embedded Cosmos
 * server (with the timers that make store requests of their own off). Then the 1-sender p50 against the baseline commit's code (chat-send-comparison.ts).
 */
export async function chatBench(): Promise<string[]> {
  const stack = await startBenchStack({ RATE_LIMIT_IDENTITY_CREATE: '100000000', ...TIMERS_OFF });
  const lines: string[] = [];
  try {
    const resource = await createResource(stack, 'bench-chat', 'Europe');
    const options = sdkOptions(stack);
    const identities = new CommunicationIdentityClient(resource.connectionString, options);
    const endpoint = resource.connectionString.replace(/^endpoint=/, '').split(';')[0]!;
    const newUser = async () => {
      const { user, token } = await identities.createUserAndToken(['chat']);
      return { user, chat: new ChatClient(endpoint, new AzureCommunicationTokenCredential(token), options) };
    };
    const reader = await newUser();
    const senders: ChatThreadClient[] = [];
    for (let i = 0; i < 32; i += 1) {
      const sender = await newUser();
      const { chatThread } = await sender.chat.createChatThread({ topic: `bench ${i}` }, { participants: [{ id: reader.user }] });
      senders.push(sender.chat.getChatThreadClient(chatThread!.id));
    }
    const cosmos = new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
    const { database } = await cosmos.databases.createIfNotExists({ id: 'bench-raw' });
    const { container } = await database.containers.createIfNotExists({ id: 'raw', partitionKey: { paths: ['/threadId'] } });
    await senders[0]!.sendMessage({ content: 'warm-up' });

    for (const concurrency of [1, 8, 32]) {
      const requestsBefore = stack.cosmosRequests!();
      const viaService = await measure(MESSAGES_PER_RUN, concurrency, (i) => senders[i % concurrency]!.sendMessage({ content: CONTENT }));
      const requestsPerSend = (stack.cosmosRequests!() - requestsBefore) / MESSAGES_PER_RUN;
      const raw = await measure(MESSAGES_PER_RUN, concurrency, (i) =>
        container.items.create({ id: `${concurrency}-${i}`, threadId: `t${i % concurrency}`, kind: 'message', content: CONTENT, createdOn: new Date().toISOString() }),
      );
      const ratio = (viaService.wallMs / MESSAGES_PER_RUN) / (raw.wallMs / MESSAGES_PER_RUN);
      lines.push(`${summarize(`send message via SDK over HTTPS (${concurrency} senders)`, viaService)}  ${requestsPerSend.toFixed(1)} store requests per send`);
      lines.push(summarize(`raw Cosmos item write, same store (${concurrency} writers)`, raw));
      lines.push(`  service / raw time per message: ${ratio.toFixed(1)}x`);
    }

    const crowd = await newUser();
    const members = await Promise.all(Array.from({ length: 31 }, () => newUser()));
    const { chatThread } = await crowd.chat.createChatThread({ topic: 'shared' }, { participants: members.map((m) => ({ id: m.user })) });
    const shared = [crowd, ...members].map((m) => m.chat.getChatThreadClient(chatThread!.id));
    const contended = await measure(MESSAGES_PER_RUN, 32, (i) => shared[i % 32]!.sendMessage({ content: CONTENT }));
    lines.push(summarize('send message, 32 senders in one 32-person thread', contended));
  } finally {
    await stack.stop();
  }
  lines.push(...(await chatSendComparison()));
  // The same with every store answer held 5 ms, about one round trip within an Azure region: there
  // the store requests a send makes one after another are most of its latency.
  lines.push(...(await chatSendComparison({ storeRoundTripMs: STORE_ROUND_TRIP_MS, rounds: 10, sends: 50 })));
  return lines;
}
