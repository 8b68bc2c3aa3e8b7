import { createHmac } from 'node:crypto';

/**
 * A small client of the Azure Storage Queue REST API (the operations the development host's queue
 * triggers need), with Shared Key authorization: the app has no queue SDK, and Azurite and Azure
 * accept the same requests. Connection strings as the Functions host reads them
 * (`AccountName`, `AccountKey` and `QueueEndpoint`, or `DefaultEndpointsProtocol` + `EndpointSuffix`).
 */
export interface QueueMessage {
  id: string;
  popReceipt: string;
  /** The message text as stored (base64 when the sender encoded it so). */
  text: string;
  dequeueCount: number;
  insertionTime: Date;
  expirationTime: Date;
  nextVisibleTime: Date;
}

export class QueueRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    operation: string,
  ) {
    super(`Queue ${operation} failed: ${status} ${code}`);
  }
}

const VERSION = '2023-11-03';

export function parseConnectionString(connectionString: string): { accountUrl: string; account: string; key: Buffer } {
  const parts = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) parts.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const account = parts.get('accountname');
  const key = parts.get('accountkey');
  if (!account || !key) throw new Error('The storage connection string has no AccountName and AccountKey (keyless queue access is not supported by the development host)');
  const endpoint = parts.get('queueendpoint') ?? `${parts.get('defaultendpointsprotocol') ?? 'https'}://${account}.queue.${parts.get('endpointsuffix') ?? 'core.windows.net'}`;
  return { accountUrl: endpoint.replace(/\/+$/, ''), account, key: Buffer.from(key, 'base64') };
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const xmlUnescape = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, entity: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (entity[0] !== '#') return named[entity.toLowerCase()]!;
    return String.fromCodePoint(entity[1]?.toLowerCase() === 'x' ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
  });

const element = (xml: string, name: string) => {
  const found = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return found ? xmlUnescape(found[1]!) : '';
};

function parseMessages(xml: string): QueueMessage[] {
  return [...xml.matchAll(/<QueueMessage>([\s\S]*?)<\/QueueMessage>/g)].map(([, body]) => ({
    id: element(body!, 'MessageId'),
    popReceipt: element(body!, 'PopReceipt'),
    text: element(body!, 'MessageText'),
    dequeueCount: Number(element(body!, 'DequeueCount')),
    insertionTime: new Date(element(body!, 'InsertionTime')),
    expirationTime: new Date(element(body!, 'ExpirationTime')),
    nextVisibleTime: new Date(element(body!, 'TimeNextVisible')),
  }));
}

export class QueueServiceClient {
  readonly accountUrl: string;
  readonly #account: string;
  readonly #key: Buffer;

  constructor(connectionString: string) {
    const parsed = parseConnectionString(connectionString);
    this.accountUrl = parsed.accountUrl;
    this.#account = parsed.account;
    this.#key = parsed.key;
  }

  /** Creates the queue; true when it was created, false when it existed. */
  async createQueue(queue: string): Promise<boolean> {
    const response = await this.#send('create queue', 'PUT', `/${queue}`, {}, undefined, [201, 204]);
    return response.status === 201;
  }

  /** The approximate number of messages, visible or not (Get Queue Metadata). */
  async approximateCount(queue: string): Promise<number> {
    const response = await this.#send('get metadata', 'GET', `/${queue}`, { comp: 'metadata' }, undefined, [200]);
    return Number(response.headers.get('x-ms-approximate-messages-count'));
  }

  async sendMessage(queue: string, text: string, visibilityTimeoutSeconds = 0): Promise<QueueMessage> {
    const body = `<?xml version="1.0" encoding="utf-8"?><QueueMessage><MessageText>${xmlEscape(text)}</MessageText></QueueMessage>`;
    const response = await this.#send('put message', 'POST', `/${queue}/messages`, { visibilitytimeout: String(visibilityTimeoutSeconds) }, body, [201]);
    return { ...parseMessages(await response.text())[0]!, text };
  }

  /** Get Messages: up to `count` (1–32) messages, invisible to others for `visibilityTimeoutSeconds`. */
  async receiveMessages(queue: string, count: number, visibilityTimeoutSeconds: number): Promise<QueueMessage[]> {
    const query = { numofmessages: String(count), visibilitytimeout: String(visibilityTimeoutSeconds) };
    return parseMessages(await (await this.#send('get messages', 'GET', `/${queue}/messages`, query, undefined, [200])).text());
  }

  /** Peek Messages: the visible messages, without changing them (no pop receipt). */
  async peekMessages(queue: string, count = 32): Promise<QueueMessage[]> {
    const query = { peekonly: 'true', numofmessages: String(count) };
    return parseMessages(await (await this.#send('peek messages', 'GET', `/${queue}/messages`, query, undefined, [200])).text());
  }

  async deleteMessage(queue: string, id: string, popReceipt: string): Promise<void> {
    await this.#send('delete message', 'DELETE', `/${queue}/messages/${encodeURIComponent(id)}`, { popreceipt: popReceipt }, undefined, [204]);
  }

  /** Update Message (visibility only); returns the new pop receipt. */
  async updateVisibility(queue: string, id: string, popReceipt: string, visibilityTimeoutSeconds: number): Promise<string> {
    const query = { popreceipt: popReceipt, visibilitytimeout: String(visibilityTimeoutSeconds) };
    const response = await this.#send('update message', 'PUT', `/${queue}/messages/${encodeURIComponent(id)}`, query, undefined, [204]);
    return response.headers.get('x-ms-popreceipt') ?? '';
  }

  async #send(operation: string, method: string, path: string, query: Record<string, string>, body: string | undefined, expected: number[]): Promise<Response> {
    const url = new URL(`${this.accountUrl}${path}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const bytes = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const headers: Record<string, string> = { 'x-ms-date': new Date().toUTCString(), 'x-ms-version': VERSION };
    if (bytes) headers['content-type'] = 'application/xml; charset=utf-8';
    headers.authorization = `SharedKey ${this.#account}:${this.#sign(method, url, headers, bytes?.length ?? 0)}`;
    const response = await fetch(url, { method, headers, body: bytes });
    if (!expected.includes(response.status)) {
      await response.body?.cancel();
      throw new QueueRequestError(response.status, response.headers.get('x-ms-error-code') ?? 'Unknown', operation);
    }
    return response;
  }

  #sign(method: string, url: URL, headers: Record<string, string>, length: number): string {
    const msHeaders = Object.keys(headers)
      .filter((name) => name.startsWith('x-ms-'))
      .sort()
      .map((name) => `${name}:${headers[name]}\n`)
      .join('');
    const params = [...new Set([...url.searchParams.keys()].map((k) => k.toLowerCase()))].sort();
    const resource = `/${this.#account}${url.pathname}${params.map((name) => `\n${name}:${url.searchParams.getAll(name).join(',')}`).join('')}`;
    const stringToSign = [method, '', '', length > 0 ? String(length) : '', '', headers['content-type'] ?? '', '', '', '', '', '', ''].join('\n') + '\n' + msHeaders + resource;
    return createHmac('sha256', this.#key).update(stringToSign, 'utf8').digest('base64');
  }
}
