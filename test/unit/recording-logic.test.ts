import { describe, expect, it } from 'vitest';
import { planRange } from '../../shared/recordings/byte-range.js';
import { blobCreatedEventSchema } from '../../shared/recordings/blob-created-event.js';
import { recordingMetadataSchema, resolveAgainstMediaType, mediaTypeOf } from '../../shared/recordings/recording-metadata.js';
import { recordingId, recordingLocations, RECORDING_ID_PATTERN } from '../../shared/recordings/recording-record.js';

describe('byte ranges', () => {
  const etag = '"0x1"';
  it('serves one range as 206, clamps an open or oversized end, and takes suffix ranges', () => {
    expect(planRange(1000, 'bytes=0-99', null, etag)).toEqual({ status: 206, start: 0, end: 99 });
    expect(planRange(1000, 'bytes=900-', null, etag)).toEqual({ status: 206, start: 900, end: 999 });
    expect(planRange(1000, 'bytes=900-5000', null, etag)).toEqual({ status: 206, start: 900, end: 999 });
    expect(planRange(1000, 'bytes=-100', null, etag)).toEqual({ status: 206, start: 900, end: 999 });
    expect(planRange(1000, 'bytes=0-9,10-19', null, etag)).toEqual({ status: 206, start: 0, end: 19 });
  });

  it('answers 416 past the end, and ignores malformed headers, other units, disjoint ranges and a stale If-Range', () => {
    expect(planRange(1000, 'bytes=1000-', null, etag)).toEqual({ status: 416 });
    expect(planRange(1000, 'bytes=abc', null, etag)).toEqual({ status: 200 });
    expect(planRange(1000, 'items=0-1', null, etag)).toEqual({ status: 200 });
    expect(planRange(1000, 'bytes=0-9,100-109', null, etag)).toEqual({ status: 200 });
    expect(planRange(1000, 'bytes=0-9', '"0x2"', etag)).toEqual({ status: 200 });
    expect(planRange(1000, 'bytes=0-9', etag, etag)).toEqual({ status: 206, start: 0, end: 9 });
    expect(planRange(1000, null, null, etag)).toEqual({ status: 200 });
  });
});

describe('recording metadata', () => {
  const base = { callId: 'c', startTime: '2026-11-21T09:00:00Z', durationMs: 1, channelType: 'Mixed', participants: [{ rawId: '8:acs:x_y' }] };

  it('reduces every identifier kind to its raw id', () => {
    const parsed = recordingMetadataSchema.parse({
      ...base,
      participants: [
        { communicationUser: { id: '8:acs:r_1' } },
        { phoneNumber: { value: '+14255550123' }, channel: 1 },
        { microsoftTeamsUser: { userId: 'abc' } },
        { rawId: '8:acs:r_2', kind: 'communicationUser' },
      ],
    });
    expect(parsed.participants).toEqual([{ rawId: '8:acs:r_1' }, { rawId: '4:+14255550123', channel: 1 }, { rawId: '8:orgid:abc' }, { rawId: '8:acs:r_2' }]);
    expect(recordingMetadataSchema.safeParse({ ...base, participants: [{ kind: 'unknown' }] }).success).toBe(false);
    expect(recordingMetadataSchema.safeParse({ ...base, extra: 1 }).success).toBe(false);
  });

  it('takes the format from the media type and refuses metadata that contradicts it', () => {
    const metadata = recordingMetadataSchema.parse(base);
    expect(resolveAgainstMediaType(metadata, 'audio/mpeg')).toMatchObject({ ok: true, metadata: { format: 'Mp3', contentType: 'Audio' } });
    expect(resolveAgainstMediaType(metadata, 'video/mp4')).toMatchObject({ ok: true, metadata: { format: 'Mp4', contentType: 'AudioVideo' } });
    expect(resolveAgainstMediaType({ ...metadata, format: 'Wav' }, 'video/mp4')).toMatchObject({ ok: false, field: 'format' });
    expect(resolveAgainstMediaType({ ...metadata, contentType: 'AudioVideo' }, 'audio/wav')).toMatchObject({ ok: false, field: 'contentType' });
    expect(resolveAgainstMediaType(metadata, 'text/plain')).toMatchObject({ ok: false, field: 'Content-Type' });
    expect(mediaTypeOf('Audio/WAV; codecs=1')).toBe('audio/wav');
  });
});

describe('recording ids and locations', () => {
  it('sort by creation time; a derived id repeats, a random one does not', () => {
    const early = recordingId(new Date('2026-11-21T10:00:00Z'));
    const late = recordingId(new Date('2026-11-21T10:00:01Z'));
    expect(early < late).toBe(true);
    expect(early).toMatch(RECORDING_ID_PATTERN);
    const at = new Date('2026-11-21T10:00:00Z');
    expect(recordingId(at, ['a', 'b'])).toBe(recordingId(at, ['a', 'b']));
    expect(recordingId(at, ['a', 'b'])).not.toBe(recordingId(at, ['a', 'c']));
    expect(recordingId(at)).not.toBe(recordingId(at));
  });

  it('locations are on the resource endpoint', () => {
    expect(recordingLocations('https://host:7443', { name: 'Contoso' }, 'abc')).toEqual({
      contentLocation: 'https://host:7443/recordings/abc/content?resource=contoso',
      metadataLocation: 'https://host:7443/recordings/abc/metadata?resource=contoso',
      deleteLocation: 'https://host:7443/recordings/abc?resource=contoso',
    });
  });
});

describe('BlobCreated events', () => {
  const data = { url: 'https://acct.blob.core.windows.net/c/r/a%20b.wav', eTag: '0x1' };
  it('reads Event Grid and CloudEvents shapes, taking container and name from the subject', () => {
    const subject = '/blobServices/default/containers/c/blobs/r/a b.wav';
    expect(blobCreatedEventSchema.parse({ id: '1', eventType: 'Microsoft.Storage.BlobCreated', subject, data })).toMatchObject({
      type: 'Microsoft.Storage.BlobCreated',
      container: 'c',
      blobName: 'r/a b.wav',
      eTag: '0x1',
    });
    expect(blobCreatedEventSchema.parse({ id: '1', type: 'Microsoft.Storage.BlobCreated', subject, data }).type).toBe('Microsoft.Storage.BlobCreated');
    expect(blobCreatedEventSchema.safeParse({ id: '1', eventType: 'x', subject: '/blobServices/default/containers/c', data }).success).toBe(false);
  });
});
