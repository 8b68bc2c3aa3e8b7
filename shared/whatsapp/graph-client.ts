import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import * as z from 'zod';
import { isAllowedUpstreamUrl } from '../config/whatsapp-settings.js';

/**
 * The WhatsApp Business Cloud API (Graph API) over HTTPS, as the app calls it: with a channel's
 * access token as a bearer token, a keep-alive agent per protocol created on first use (module
 * import stays cheap), and a deadline on every request (the response's headers must come within
 * `timeoutMs`; a body that stalls for as long is cut off). Failures are GraphErrors: WhatsApp's own
 * (`{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}`) or
 * `unavailable` (no answer, a timeout, a body that is not what the API sends).
 */
export class GraphError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: number,
    readonly subcode?: number,
    readonly details?: string,
    /** No usable answer (network, timeout, unreadable body): worth retrying. */
    readonly unavailable = false,
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

const graphErrorSchema = z.object({
  error: z.looseObject({
    message: z.string().default('The WhatsApp Business Cloud API refused the request.'),
    code: z.number().optional(),
    error_subcode: z.number().optional(),
    error_data: z.looseObject({ details: z.string().optional() }).optional(),
  }),
});

const MAX_JSON_BYTES = 4 * 1024 * 1024;

export class GraphClient {
  #agents: { http?: HttpAgent; https?: HttpsAgent } = {};
  #modules?: Promise<{ http: typeof import('node:http'); https: typeof import('node:https') }>;

  constructor(private readonly options: { timeoutMs: number }) {}

  /** A JSON request; the answer parsed with `schema`. */
  async json<S extends z.ZodType>(method: 'GET' | 'POST', url: string, token: string, schema: S, body?: unknown): Promise<z.infer<S>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const response = await this.#request(method, url, token, payload);
    const text = await readText(response, MAX_JSON_BYTES).catch((error: unknown) => {
      throw new GraphError(`The WhatsApp Business Cloud API's answer could not be read: ${error instanceof Error ? error.message : String(error)}`, 502, undefined, undefined, undefined, true);
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new GraphError(`The WhatsApp Business Cloud API answered ${response.statusCode ?? 0} with a body that is not JSON.`, response.statusCode ?? 502, undefined, undefined, undefined, true);
    }
    const status = response.statusCode ?? 502;
    if (status < 200 || status > 299) throw toGraphError(status, parsed);
    const result = schema.safeParse(parsed);
    if (!result.success) throw new GraphError(`The WhatsApp Business Cloud API answered in an unexpected shape (${result.error.issues[0]?.path.join('.') ?? 'body'}).`, 502, undefined, undefined, undefined, true);
    return result.data;
  }

  /** A download: the response itself (status 2xx), its body streamed by the caller. */
  async stream(url: string, token: string): Promise<IncomingMessage> {
    const response = await this.#request('GET', url, token, undefined);
    const status = response.statusCode ?? 502;
    if (status >= 200 && status <= 299) return response;
    const text = await readText(response, MAX_JSON_BYTES).catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    throw toGraphError(status, parsed);
  }

  dispose(): void {
    this.#agents.http?.destroy();
    this.#agents.https?.destroy();
    this.#agents = {};
  }

  async #request(method: string, url: string, token: string, body: Buffer | undefined): Promise<IncomingMessage> {
    if (!isAllowedUpstreamUrl(url)) throw new GraphError('The WhatsApp Business Cloud API named a URL that is not https.', 502, undefined, undefined, undefined, true);
    const target = new URL(url);
    const { http, https } = await (this.#modules ??= Promise.all([import('node:http'), import('node:https')]).then(([h, s]) => ({ http: h, https: s })));
    const secure = target.protocol === 'https:';
    const agent = secure ? (this.#agents.https ??= new https.Agent({ keepAlive: true, maxSockets: 64 })) : (this.#agents.http ??= new http.Agent({ keepAlive: true, maxSockets: 64 }));
    const timeoutMs = this.options.timeoutMs;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-length': body.length });
      const request = (secure ? https : http).request(target, { method, agent, headers });
      const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      request.on('response', (response) => {
        clearTimeout(deadline);
        // A body that stops arriving for as long as a whole answer may take is cut off.
        response.setTimeout(timeoutMs, () => response.destroy(new Error(`the answer stalled for ${timeoutMs} ms`)));
        resolve(response);
      });
      request.on('error', (error) => {
        clearTimeout(deadline);
        reject(new GraphError(`The WhatsApp Business Cloud API could not be reached: ${error.message}`, 503, undefined, undefined, undefined, true));
      });
      request.end(body);
    });
  }
}

function toGraphError(status: number, body: unknown): GraphError {
  const parsed = graphErrorSchema.safeParse(body);
  if (!parsed.success) return new GraphError(`The WhatsApp Business Cloud API answered ${status}.`, status, undefined, undefined, undefined, status >= 500);
  const { message, code, error_subcode: subcode, error_data: data } = parsed.data.error;
  return new GraphError(message, status, code, subcode, data?.details);
}

async function readText(response: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      response.destroy();
      throw new Error(`more than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
