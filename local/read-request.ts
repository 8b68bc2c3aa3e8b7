import type { IncomingMessage } from 'node:http';

/** Reads a whole (small) request body: webhook batches, admin inputs, buffered-mode triggers. */
export async function readRequestBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
