import { ServerResponse } from 'node:http';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChatClient, type ChatThreadClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { CommunicationIdentityClient } from '@azure/communication-identity';

/**
 * One side of the chat send comparison (chat-send-comparison.ts), in a process of its own: starts the
 * local stack of the build in `argv[2]` (a checkout's root with its `dist`, through that build's own
 * bench-stack.js), makes one sender in a two-person thread, and then, on each `round` message from
 * the parent, sends that many messages one after another and answers their latencies and the store
 * requests the embedded Cosmos server served meanwhile. The same code drives every side. With a
 * store round trip (argv[4], milliseconds), every answer of the embedded Cosmos server is held that
 * long before it is sent, as a network round trip within an Azure region would hold it, so that the
 * store requests a send makes one after another show in its latency. The delay is applied here, not by
 * the build's own stack, so a baseline built before the emulator could delay answers gets it too.
 */
interface BenchStackModule {
  startBenchStack(env?: Record<string, string>): Promise<{ tls: { cert: string }; cosmosRequests?: () => number; stop(): Promise<void> }>;
  createResource(stack: unknown, name: string, geography: string): Promise<{ connectionString: string }>;
}

export type ChildRequest = { cmd: 'round'; sends: number } | { cmd: 'stop' };
export type ChildReply = { ready: true } | { latencies: number[]; requests: number } | { error: string };

const NEVER = '0 0 0 1 1 *';
const CONTENT = 'Benchmark message with a realistic length of text, about one line of chat. '.repeat(2);

/** Holds every answer to a Cosmos SDK request (they all carry this header) for `ms` before it is sent. */
function delayStoreAnswers(ms: number): void {
  const end = ServerResponse.prototype.end as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]) {
    if (this.req?.headers['x-ms-cosmos-sdk-supportedcapabilities'] === undefined) return end.apply(this, args);
    setTimeout(() => end.apply(this, args), ms);
    return this;
  } as typeof ServerResponse.prototype.end;
}

async function main(): Promise<void> {
  const root = process.argv[2];
  const roundTripMs = Number(process.argv[4] ?? 0);
  if (roundTripMs > 0) delayStoreAnswers(roundTripMs);
  if (!root || !process.send) throw new Error('usage: forked with the root of a built checkout as its argument');
  const reply = (message: ChildReply) => process.send!(message);
  const { startBenchStack, createResource } = (await import(pathToFileURL(join(root, 'dist', 'bench', 'bench-stack.js')).href)) as BenchStackModule;
  // The settings of chat-bench.ts, written out: the baseline's bench-stack.js may not have TIMERS_OFF.
  const stack = await startBenchStack({
    RATE_LIMIT_IDENTITY_CREATE: '100000000',
    OUTBOX_REPUBLISH_SCHEDULE: NEVER,
    PRIVACY_WORKER_SCHEDULE: NEVER,
    RETENTION_PURGE_SCHEDULE: NEVER,
    RECORDING_PURGE_SCHEDULE: NEVER,
    EMAIL_DELIVERY_SCHEDULE: NEVER,
    SMS_HOUSEKEEPING_SCHEDULE: NEVER,
    WHATSAPP_HOUSEKEEPING_SCHEDULE: NEVER,
    // Settings of this side's own (argv[3], JSON), such as TOKEN_REVOCATION_CACHE_MS.
    ...(JSON.parse(process.argv[3] ?? '{}') as Record<string, string>),
  });
  const resource = await createResource(stack, 'bench-send', 'Europe');
  const agent = new Agent({ ca: stack.tls.cert, keepAlive: true, maxSockets: 8 });
  const options = { additionalPolicies: [{ position: 'perCall' as const, policy: { name: 'ca', sendRequest: (r: any, next: any) => ((r.agent = agent), next(r)) } }] };
  const identities = new CommunicationIdentityClient(resource.connectionString, options);
  const endpoint = resource.connectionString.replace(/^endpoint=/, '').split(';')[0]!;
  const newUser = async () => {
    const { user, token } = await identities.createUserAndToken(['chat']);
    return { user, chat: new ChatClient(endpoint, new AzureCommunicationTokenCredential(token), options) };
  };
  const [sender, reader] = [await newUser(), await newUser()];
  const { chatThread } = await sender.chat.createChatThread({ topic: 'bench' }, { participants: [{ id: reader.user }] });
  const thread: ChatThreadClient = sender.chat.getChatThreadClient(chatThread!.id);
  for (let i = 0; i < 20; i += 1) await thread.sendMessage({ content: 'warm-up' });
  reply({ ready: true });
  process.on('message', (message: ChildRequest) => {
    void (async () => {
      try {
        if (message.cmd === 'stop') {
          await stack.stop();
          process.exit(0);
        }
        const latencies: number[] = [];
        const before = stack.cosmosRequests?.() ?? 0;
        for (let i = 0; i < message.sends; i += 1) {
          const started = performance.now();
          await thread.sendMessage({ content: CONTENT });
          latencies.push(performance.now() - started);
        }
        reply({ latencies, requests: (stack.cosmosRequests?.() ?? 0) - before });
      } catch (error) {
        reply({ error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
}

main().catch((error: unknown) => {
  process.send?.({ error: error instanceof Error ? error.stack ?? error.message : String(error) } satisfies ChildReply);
  process.exit(1);
});
