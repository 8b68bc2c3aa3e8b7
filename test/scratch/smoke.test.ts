import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, eventsOf } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { inject, messagesClient, registerChannel, simulatorOf, type TestChannel } from '../support/whatsapp.js';

let stack: TestStack;
let resource: ResourceView;
let channel: TestChannel;
beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe,Japan', LOCAL_WHATSAPP_STATUS_DELAY_MS: '20' } });
  resource = await stack.createResource('wa-smoke', 'Europe');
  channel = await registerChannel(stack, resource);
});
afterAll(async () => stack?.stop());

it('sends and receives', async () => {
  const client = messagesClient(stack, resource);
  const result = await client.path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: channel.id, to: ['+14255550123'], kind: 'text', content: 'Hello' } });
  console.log(result.status, result.body, result.headers);
  const t = await client.path('/messages/channels/{channelId}/templates', channel.id).get({ queryParameters: { maxpagesize: 3 } });
  console.log(t.status, JSON.stringify(t.body).slice(0, 300));
  const injected = await inject(stack, channel, { from: '14255550123', text: 'Hi back', media: undefined });
  await eventually(() => (eventsOf(stack, resource.id, 'Microsoft.Communication.AdvancedMessageReceived').length === 1 ? true : undefined));
  await eventually(() => (eventsOf(stack, resource.id, 'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated').length === 3 ? true : undefined));
  console.log(JSON.stringify(eventsOf(stack, resource.id, 'Microsoft.Communication.AdvancedMessageReceived'), null, 1));
  console.log(JSON.stringify(eventsOf(stack, resource.id, 'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated').map(e => [e.subject, e.data.status, e.data.messageId])));
  const img = await inject(stack, channel, { from: '14255550123', media: { mimeType: 'image/png', base64: Buffer.from('png-bytes').toString('base64') } });
  const media = await client.path('/messages/streams/{id}', img.mediaId!).get().asNodeStream();
  const chunks: Buffer[] = [];
  for await (const c of media.body!) chunks.push(c as Buffer);
  console.log(media.status, media.headers['content-type'], Buffer.concat(chunks).toString());
  console.log(injected, simulatorOf(stack).state.deliveries.map((d) => [d.about, d.lastStatus]));
  expect(result.status).toBe('202');
});
