import { describe, expect, it } from 'vitest';
import { isVisibleTo } from '../../shared/chat/chat-message-service.js';
import { messageIdFor, messageView, newMessageRecord, type MessageRecord, type ParticipantRecord } from '../../shared/chat/chat-records.js';
import { communicationIdentifierSchema } from '../../shared/chat/communication-identifier.js';
import { expandRecipients, type EventRecord } from '../../shared/events/event-record.js';
import { batchesBySize } from '../../shared/events/eventgrid-publisher.js';

const user = (n: number) => `8:acs:res_0000000${n}`;
const participant = (extra: Partial<ParticipantRecord> = {}): ParticipantRecord => ({
  id: 'p', threadId: 't', resourceId: 'res', kind: 'participant', identityId: user(1), addedOn: '2026-01-01T00:00:00.000Z', ...extra,
});
const message = (sequence: number, createdOn: string): MessageRecord =>
  newMessageRecord({ threadId: 't', resourceId: 'res', type: 'text', sequence, createdOn, senderId: user(2), content: 'x' });

describe('message visibility', () => {
  it('shows everything to a participant without shareHistoryTime or removal', () => {
    expect(isVisibleTo(participant(), message(1, '2020-01-01T00:00:00.000Z'))).toBe(true);
  });
  it('hides messages before shareHistoryTime and after the removal sequence', () => {
    const p = participant({ shareHistoryTime: '2026-02-01T00:00:00.000Z', removedAtSequence: 10 });
    expect(isVisibleTo(p, message(5, '2026-01-31T23:59:59.999Z'))).toBe(false);
    expect(isVisibleTo(p, message(5, '2026-02-01T00:00:00.000Z'))).toBe(true);
    expect(isVisibleTo(p, message(10, '2026-03-01T00:00:00.000Z'))).toBe(true);
    expect(isVisibleTo(p, message(11, '2026-03-01T00:00:00.000Z'))).toBe(false);
  });
});

describe('message records', () => {
  it('message ids are unique within a millisecond and grow with time', () => {
    const at = '2026-05-01T10:00:00.000Z';
    const ids = Array.from({ length: 50 }, (_, i) => messageIdFor(at, i + 1));
    expect(new Set(ids).size).toBe(50);
    expect(Number(messageIdFor('2026-05-01T10:00:00.001Z', 1))).toBeGreaterThan(Number(ids.at(-1)));
  });
  it('a tombstone shows only its envelope and deletedOn', () => {
    const view = messageView({ ...message(3, '2026-01-01T00:00:00.000Z'), version: 1, content: undefined, deletedOn: '2026-01-02T00:00:00.000Z' });
    expect(view).toEqual({
      id: expect.any(String), type: 'text', sequenceId: '3', version: '1', createdOn: '2026-01-01T00:00:00.000Z', deletedOn: '2026-01-02T00:00:00.000Z',
      senderCommunicationIdentifier: { rawId: user(2), kind: 'communicationUser', communicationUser: { id: user(2) } },
    });
  });
  it('records every identity a system message names', () => {
    const m = newMessageRecord({ threadId: 't', resourceId: 'res', type: 'participantAdded', sequence: 1, createdOn: '2026-01-01T00:00:00.000Z', senderId: user(1), participants: [{ identityId: user(2) }, { identityId: user(1) }] });
    expect(m.mentions).toEqual([user(1), user(2)]);
  });
});

describe('communication identifiers', () => {
  it('accepts a communication user by rawId or communicationUser.id', () => {
    expect(communicationIdentifierSchema.parse({ communicationUser: { id: user(1) } })).toBe(user(1));
    expect(communicationIdentifierSchema.parse({ rawId: user(1) })).toBe(user(1));
  });
  it('refuses phone numbers, Teams users, mismatched ids and non-ACS ids', () => {
    for (const bad of [{ phoneNumber: { value: '+1' } }, { microsoftTeamsUser: { userId: 'x' } }, { rawId: user(1), communicationUser: { id: user(2) } }, { rawId: 'someone' }, {}]) {
      expect(communicationIdentifierSchema.safeParse(bad).success).toBe(false);
    }
  });
});

describe('per-recipient events', () => {
  const event: EventRecord = { id: 'e1', type: 'T', source: 's', subject: 'thread/t/sender/a', time: 't', dataVersion: '1.0', data: { x: 1 }, perRecipient: { exclude: ['a'] } };
  it('expand to one event per recipient with stable ids, the recipient identifier and subject suffix', () => {
    const expanded = expandRecipients([event, { ...event, id: 'plain', perRecipient: undefined }], ['a', 'b', 'c']);
    expect(expanded.map((e) => e.subject)).toEqual(['thread/t/sender/a/recipient/b', 'thread/t/sender/a/recipient/c', 'thread/t/sender/a']);
    expect(expanded[0]!.data).toEqual({ x: 1, recipientCommunicationIdentifier: { rawId: 'b', kind: 'communicationUser', communicationUser: { id: 'b' } } });
    expect(expandRecipients([event], ['b'])[0]!.id).toBe(expanded[0]!.id);
    expect(expanded[0]!.id).not.toBe(expanded[1]!.id);
    expect(expanded[0]).not.toHaveProperty('perRecipient');
  });
  it('are published in batches under the size limit, in order', () => {
    const big = (i: number): EventRecord => ({ ...event, id: String(i), perRecipient: undefined, data: { body: 'x'.repeat(300_000) } });
    const batches = batchesBySize([big(1), big(2), big(3), big(4)], 900 * 1024);
    expect(batches.map((b) => b.map((e) => e.id))).toEqual([['1', '2', '3'], ['4']]);
  });
});
