import { ChatClient, type ChatThreadClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { CommunicationIdentityClient, type TokenScope } from '@azure/communication-identity';
import { trustDevCertificate } from './sdk-options.js';
import { toTestResponse, type ResourceView, type TestResponse, type TestStack } from './test-stack.js';

/** A communication user with a token and official chat clients for it, over HTTPS. */
export interface ChatUser {
  id: string;
  token: string;
  chat: ChatClient;
  thread(threadId: string): ChatThreadClient;
}

export function identityClient(stack: TestStack, resource: ResourceView): CommunicationIdentityClient {
  return new CommunicationIdentityClient(resource.connectionString, trustDevCertificate(stack) as never);
}

export function chatClientFor(stack: TestStack, resource: ResourceView, token: string): ChatClient {
  return new ChatClient(resource.endpoint, new AzureCommunicationTokenCredential(token), trustDevCertificate(stack) as never);
}

export async function createChatUser(stack: TestStack, resource: ResourceView, scopes: TokenScope[] = ['chat']): Promise<ChatUser> {
  const { user, token } = await identityClient(stack, resource).createUserAndToken(scopes);
  const chat = chatClientFor(stack, resource, token);
  return { id: user.communicationUserId, token, chat, thread: (threadId) => chat.getChatThreadClient(threadId) };
}

export const userRef = (user: { id: string }) => ({ communicationUserId: user.id });

/** Every item of an async iterable (an SDK paged list). */
export async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/**
 * A Chat API call over plain HTTP with a user token, for what the SDK would not send (http, bodies it
 * would not build) or would hide (it retries a 429 by itself).
 */
export async function chatRequest(stack: TestStack, resourceName: string, token: string, method: string, path: string, body?: unknown): Promise<TestResponse> {
  const url = new URL(path, stack.httpUrl);
  url.searchParams.set('resource', resourceName);
  url.searchParams.set('api-version', '2025-03-15');
  return toTestResponse(
    await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}
