import * as z from 'zod';

/**
 * `Microsoft.Storage.BlobCreated` from a storage account's system topic, in the Event Grid schema
 * (`eventType`, `eventTime`) or as a CloudEvent (`type`, `time`); only the fields ingestion uses.
 */
export const BLOB_CREATED = 'Microsoft.Storage.BlobCreated';

export const blobCreatedEventSchema = z
  .object({
    id: z.string().min(1),
    eventType: z.string().optional(),
    type: z.string().optional(),
    subject: z.string().regex(/^\/blobServices\/default\/containers\/[^/]+\/blobs\/.+$/, 'subject must name a blob'),
    data: z.object({
      url: z.url(),
      eTag: z.string().optional(),
      contentType: z.string().optional(),
      contentLength: z.number().optional(),
    }),
  })
  .transform((event) => {
    const [, container, name] = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(event.subject)!;
    return { id: event.id, type: event.eventType ?? event.type ?? '', container: container!, blobName: name!, url: event.data.url, eTag: event.data.eTag };
  });
export type BlobCreatedEvent = z.output<typeof blobCreatedEventSchema>;
