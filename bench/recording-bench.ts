import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { signRequestHeaders } from '../shared/auth/hmac-auth.js';
import { createResource, startBenchStack, TIMERS_OFF } from './bench-stack.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/**
 * Streams a 1 GiB recording in (`POST recordings`, multipart, HMAC-signed) and out (`GET` its content
 * location) through the local host, with Azurite persisting to disk (in memory it would hold the file
 * itself). Reports throughput and this process's resident memory, sampled every 20 ms during each
 * transfer: the client, the host, the worker, Azurite and Cosmos all run in this one process.
 */
export async function recordingBench(): Promise<string[]> {
  const size = Number(process.env.BENCH_RECORDING_BYTES ?? GIB);
  const blobDir = await mkdtemp(join(tmpdir(), 'acs-bench-blobs-'));
  const stack = await startBenchStack(TIMERS_OFF, { blobLocation: blobDir });
  const lines: string[] = [];
  try {
    const resource = await createResource(stack, 'bench-recordings', 'Europe');
    const endpoint = new URL(resource.connectionString.replace(/^endpoint=/, '').split(';')[0]!);
    const key = resource.connectionString.split('accesskey=')[1]!;
    const url = new URL(`/recordings?resource=${endpoint.searchParams.get('resource')}`, stack.httpUrl);

    // The content: 1 MiB of random bytes, repeated with the chunk number stamped in, so every MiB differs.
    const pattern = randomBytes(MIB);
    const content = function* () {
      for (let offset = 0, n = 0; offset < size; offset += MIB, n += 1) {
        const chunk = Buffer.from(pattern.subarray(0, Math.min(MIB, size - offset)));
        chunk.writeUInt32BE(n, 0);
        yield chunk;
      }
    };
    const boundary = `bench${randomBytes(8).toString('hex')}`;
    const metadata = {
      callId: 'bench-call',
      startTime: new Date().toISOString(),
      durationMs: 3_600_000,
      participants: [{ rawId: '8:acs:bench_1' }, { phoneNumber: { value: '+14255550123' } }],
      channelType: 'Mixed',
    };
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata)}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="call.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const body = function* () {
      yield head;
      yield* content();
      yield tail;
    };

    // The signature covers the body's hash, so the client hashes it once before sending (as an SDK would).
    const bodyHash = createHash('sha256');
    const contentHash = createHash('sha256');
    for (const chunk of body()) bodyHash.update(chunk);
    for (const chunk of content()) contentHash.update(chunk);
    const expectedContent = contentHash.digest('hex');
    const signed = signRequestHeaders({ method: 'POST', url: url.toString(), key, contentHash: bodyHash.digest('base64') });

    const baseline = process.memoryUsage().rss;
    const upload = await sampled(async () => {
      const response = await send(url, 'POST', { ...signed, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length) }, body());
      if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${response.text}`);
      return JSON.parse(response.text) as { contentLocation: string; contentLength: number };
    });
    const recording = upload.result;
    if (recording.contentLength !== size) throw new Error(`stored ${recording.contentLength} bytes, sent ${size}`);

    const location = new URL(recording.contentLocation);
    const contentUrl = new URL(location.pathname + location.search, stack.httpUrl);
    const download = await sampled(async () => {
      const hash = createHash('sha256');
      let received = 0;
      const headers = signRequestHeaders({ method: 'GET', url: contentUrl.toString(), key });
      await new Promise<void>((resolve, reject) => {
        http.get(contentUrl, { headers }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`download answered ${res.statusCode}`));
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
            hash.update(chunk);
          });
          res.on('end', () => resolve());
          res.on('error', reject);
        }).on('error', reject);
      });
      if (received !== size || hash.digest('hex') !== expectedContent) throw new Error('the downloaded content differs from the upload');
    });

    const mb = size / MIB;
    const line = (what: string, run: { ms: number; peakRss: number }) =>
      `${what.padEnd(44)} ${(mb / (run.ms / 1000)).toFixed(0).padStart(5)} MiB/s  ${(run.ms / 1000).toFixed(1).padStart(6)} s  peak RSS ${(run.peakRss / MIB).toFixed(0).padStart(5)} MiB (+${((run.peakRss - baseline) / MIB).toFixed(0)} over the ${(baseline / MIB).toFixed(0)} MiB before)`;
    lines.push(`recording of ${(size / MIB).toFixed(0)} MiB (video/mp4), through the local host over HTTP, Azurite on disk`);
    lines.push(line('upload (POST recordings, hash checked, staged)', upload));
    lines.push(line('download (GET content location, verified)', download));
  } finally {
    await stack.stop();
    await rm(blobDir, { recursive: true, force: true });
  }
  return lines;
}

async function sampled<T>(run: () => Promise<T>): Promise<{ result: T; ms: number; peakRss: number }> {
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const started = performance.now();
  try {
    const result = await run();
    return { result, ms: performance.now() - started, peakRss: Math.max(peakRss, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

function send(url: URL, method: string, headers: Record<string, string>, body: Iterable<Buffer>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    pipeline(Readable.from(body), req).catch(reject);
  });
}
