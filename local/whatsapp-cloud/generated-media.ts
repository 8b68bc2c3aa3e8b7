import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Media the simulator makes up instead of holding: `size` bytes from a seeded xorshift generator,
 * produced in 64 KiB chunks as they are read. The same seed and size always give the same bytes, so
 * a test computes the expected hash without keeping the file, and a download of hundreds of MiB
 * costs the simulator no memory.
 */
const CHUNK = 64 * 1024;

function* chunks(seed: number, size: number): Generator<Buffer> {
  let state = seed >>> 0 || 0x9e3779b9;
  let left = size;
  while (left > 0) {
    const length = Math.min(CHUNK, left);
    const words = new Uint32Array(Math.ceil(length / 4));
    for (let i = 0; i < words.length; i += 1) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      words[i] = state;
    }
    yield Buffer.from(words.buffer, 0, length);
    left -= length;
  }
}

export function generatedMedia(seed: number, size: number): Readable {
  return Readable.from(chunks(seed, size), { objectMode: false });
}

/** The SHA-256 (hex) of generated media, computed chunk by chunk. */
export function generatedMediaSha256(seed: number, size: number): string {
  const hash = createHash('sha256');
  for (const chunk of chunks(seed, size)) hash.update(chunk);
  return hash.digest('hex');
}
