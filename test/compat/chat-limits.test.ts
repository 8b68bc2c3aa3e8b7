import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { all, createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/** The ACS chat limits and request validation, through the official client: 400s that name the limit and change nothing. */

let stack: TestStack;
let resource: ResourceView;
let alice: ChatUser;
let bob: ChatUser;
let threadId: string;

beforeAll(async () => {
  stack = await startTestStack();
  resource = await stack.createResource('chat-limits', 'Europe');
  [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
  threadId = (await alice.chat.createChatThread({ topic: 'Limits' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
});
afterAll(async () => stack?.stop());

const fakeUser = (i: number) => ({ id: { communicationUserId: `8:acs:${resource.id}_00000000-0000-0000-0000-${String(i).padStart(12, '0')}` } });

async function rejection(call: () => Promise<unknown>): Promise<{ statusCode: number; code: string; message: string }> {
  const error = await call().then(
    () => undefined,
    (e: { statusCode: number; code: string; message: string }) => e,
  );
  if (!error) throw new Error('expected the call to fail');
  return error;
}

describe('chat limits', () => {
  it('message content over 28 KB answers 400 naming the limit; 28 KB is accepted', async () => {
    const error = await rejection(() => alice.thread(threadId).sendMessage({ content: 'x'.repeat(28 * 1024 + 1) }));
    expect(error).toMatchObject({ statusCode: 400, code: 'ValidationError' });
    expect(error.message).toMatch(/content is larger than the limit of 28672 bytes/);
    await expect(alice.thread(threadId).sendMessage({ content: 'x'.repeat(28 * 1024) })).resolves.toHaveProperty('id');
    const [latest] = await all(alice.thread(threadId).listMessages({ maxPageSize: 1 }));
    expect(latest!.content?.message).toBe('x'.repeat(28 * 1024));
  });

  it('metadata over 1 KB answers 400 naming the limit', async () => {
    const error = await rejection(() => alice.thread(threadId).sendMessage({ content: 'hi' }, { metadata: { big: 'y'.repeat(1100) } }));
    expect(error).toMatchObject({ statusCode: 400 });
    expect(error.message).toMatch(/metadata is larger than the limit of 1024 bytes/);
  });

  it('a page size over 200 answers 400 naming maxPageSize', async () => {
    const error = await rejection(async () => {
      for await (const page of alice.thread(threadId).listMessages({ maxPageSize: 201 }).byPage()) return page;
    });
    expect(error).toMatchObject({ statusCode: 400 });
    expect(error.message).toMatch(/maxPageSize must be between 1 and 200/);
  });

  it('more than 250 participants in a thread, or 200 in one add, answers 400', async () => {
    const tooMany = Array.from({ length: 251 }, (_, i) => fakeUser(i));
    const created = await rejection(() => alice.chat.createChatThread({ topic: 'Crowd' }, { participants: tooMany }));
    expect(created).toMatchObject({ statusCode: 400 });
    expect(created.message).toMatch(/at most 250 participants/);
    const added = await rejection(() => alice.thread(threadId).addParticipants({ participants: tooMany.slice(0, 201) }));
    expect(added).toMatchObject({ statusCode: 400 });
    expect(added.message).toMatch(/at most 200 participants can be added at once/);
  });

  it('a retention policy outside 30 to 90 days answers 400 and leaves the thread as it was', async () => {
    const error = await rejection(() =>
      alice.thread(threadId).updateProperties({ topic: 'Changed', retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 10 } }),
    );
    expect(error).toMatchObject({ statusCode: 400 });
    expect(error.message).toMatch(/deleteThreadAfterDays must be between 30 and 90/);
    const props = await alice.thread(threadId).getProperties();
    expect(props.topic).toBe('Limits');
    // A thread without a policy reports kind none, as ACS 2025-03-15 answers.
    expect(props.retentionPolicy).toEqual({ kind: 'none' });
  });

  it('phone numbers and Teams users are refused as participants, naming the field', async () => {
    const error = await rejection(() => alice.thread(threadId).addParticipants({ participants: [{ id: { phoneNumber: '+14255550123' } }] }));
    expect(error).toMatchObject({ statusCode: 400 });
    expect(error.message).toMatch(/participants\.0\.communicationIdentifier: only communication users/);
  });
});
