import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Azure Resource Manager's resource read (`GET {resourceId}?api-version=...`), on
 * loopback: it answers a resource it holds with its location (and properties), as ARM does, only to
 * a request carrying the bearer token it was given; 401 without it, 403 for a resource the
 * identity may not read, 404 for one it does not hold, each with ARM's error shape. Resource ids
 * are compared without regard to case, as ARM compares them.
 */
export interface ArmResource {
  location: string;
  properties?: Record<string, unknown>;
}

export interface ArmRequest {
  path: string;
  apiVersion: string | null;
  authorization: string | null;
}

export class ArmSimulator {
  readonly requests: ArmRequest[] = [];
  readonly #resources = new Map<string, ArmResource>();
  readonly #forbidden = new Set<string>();
  readonly #failing = new Set<string>();
  #server?: Server;
  #url = '';

  constructor(private readonly token: string) {}

  get url(): string {
    return this.#url;
  }

  /** A resource ARM holds. */
  add(resourceId: string, resource: ArmResource): this {
    this.#resources.set(resourceId.toLowerCase(), resource);
    return this;
  }

  /** A resource ARM holds but the identity may not read (no role on its resource group). */
  forbid(resourceId: string, resource: ArmResource): this {
    this.#forbidden.add(resourceId.toLowerCase());
    return this.add(resourceId, resource);
  }

  /** A resource whose read fails inside ARM: a 500 whose body is not ARM's error shape. */
  failing(resourceId: string): this {
    this.#failing.add(resourceId.toLowerCase());
    return this;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://arm.local');
      const authorization = req.headers.authorization ?? null;
      this.requests.push({ path: url.pathname, apiVersion: url.searchParams.get('api-version'), authorization });
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      const error = (status: number, code: string, message: string) => answer(status, { error: { code, message } });
      const id = url.pathname.toLowerCase();
      if (req.method !== 'GET') return error(405, 'MethodNotAllowed', 'Only GET is simulated.');
      if (authorization !== `Bearer ${this.token}`) {
        return error(401, authorization ? 'InvalidAuthenticationToken' : 'AuthenticationFailed', 'The access token is missing or invalid.');
      }
      if (!url.searchParams.get('api-version')) return error(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
      if (this.#forbidden.has(id)) {
        return error(403, 'AuthorizationFailed', `The client does not have authorization to perform action 'read' over scope '${url.pathname}' or the scope is invalid.`);
      }
      if (this.#failing.has(id)) return void res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream failure');
      const resource = this.#resources.get(id);
      if (!resource) return error(404, 'ResourceNotFound', `The Resource '${url.pathname}' was not found.`);
      answer(200, { id: url.pathname, name: url.pathname.split('/').pop(), location: resource.location, properties: resource.properties ?? {} });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
