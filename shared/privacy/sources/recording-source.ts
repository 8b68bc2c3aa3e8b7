import { readRecording, recordingContentBlob } from '../../recordings/recording-store.js';
import { recordingMetadataDocument, type RecordingRecord } from '../../recordings/recording-record.js';
import { subjectSearchKey } from '../../oplog/subject-ids.js';
import { ignoreNotFound } from '../../stores/not-found.js';
import { itemsNaming, keyedPage } from './keyed-walk.js';
import { heldByIdentities, type SubjectSource } from './subject-source.js';

/**
 * Recordings that list a subject (identity or phone number) among their participants, expired ones
 * not yet purged included. The export holds their metadata, with other participants' ids left out;
 * erasing one deletes the recording for everyone in it (item, event, audit record, content).
 */
export const recordingSource: SubjectSource = {
  name: 'recordings',
  section: 'recordings',
  async page(ctx, cursor) {
    const container = await ctx.geo.container('recordings');
    const { records, next } = await keyedPage<RecordingRecord>(
      ctx,
      cursor,
      (key, after, limit) => itemsNaming<RecordingRecord>(container, ctx.resource.id, { select: '*', field: 'participantIds', filter: "c.kind = 'recording'" }, key, after, limit),
      (r) => r.participantIds,
    );
    const own = new Set(ctx.subjects.keys);
    return {
      items: records.map((r) => {
        const metadata = recordingMetadataDocument(r) as { participants: { participantId: string }[] };
        return {
          kind: 'recording' as const,
          id: r.id,
          heldBy: heldByIdentities(ctx.holds, r.participantIds),
          facts: { expiresAt: r.expiresAt, contentLength: r.contentLength },
          view: {
            ...metadata,
            participants: metadata.participants.filter((p) => own.has(subjectSearchKey(p.participantId))),
            otherParticipants: metadata.participants.filter((p) => !own.has(subjectSearchKey(p.participantId))).length,
            createdAt: r.createdAt,
            expiresAt: r.expiresAt,
          },
          ref: r.id,
        };
      }),
      next,
    };
  },
  async erase(ctx, refs) {
    for (const id of refs as string[]) {
      const record = await readRecording(ctx.geo, ctx.resource.id, id);
      if (record) await ctx.recordings.purger.commitDeletion(ctx.geo, ctx.resource, record, 'erasureRequest', ctx.now());
      await (await recordingContentBlob(ctx.geo, ctx.resource.id, id)).delete({ deleteSnapshots: 'include' }).catch(ignoreNotFound);
    }
  },
};

