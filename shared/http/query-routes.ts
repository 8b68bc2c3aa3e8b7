import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { requireSafeId } from './id-param.js';

/**
 * Routes a REST-level client (RLC) reaches through the endpoint's query. `@azure-rest/*` clients
 * (the Advanced Messaging client among them) build a request URL by appending the operation's path
 * to the endpoint as text, so with this service's endpoint (`https://host/?resource=demo`) a send
 * arrives as `POST /?resource=demo/messages/notifications:send&api-version=...` (or, when the
 * client re-serialises the query, with the slashes encoded): the path is inside the `resource`
 * parameter. The catch-all route (functions/not-found.ts) hands such a request to the route
 * registered for that path, with `resource` and the route's parameters as the path form would
 * give them; the URL (and so the HMAC signature over it) stays the one the client sent, and
 * nextLinks built from it lead back the same way.
 */
interface QueryRoute {
  segments: string[];
  functionName: string;
  handler: HttpHandler;
}

const routes: QueryRoute[] = [];

/** Registers a route template (`messages/streams/{id}`) for requests that carry their path in `resource`. */
export function registerQueryRoute(template: string, functionName: string, handler: HttpHandler): void {
  routes.push({ segments: template.split('/').filter((s) => s !== ''), functionName, handler });
}

function match(segments: string[]): { route: QueryRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matched = route.segments.every((pattern, index) => {
      const value = segments[index]!;
      const param = /^\{(\w+)\}$/.exec(pattern);
      if (param) {
        params[param[1]!] = value;
        return value !== '';
      }
      return pattern.toLowerCase() === value.toLowerCase();
    });
    if (matched) return { route, params };
  }
  return undefined;
}

/** A view of a request with other query and route parameters (everything else, the URL included, as sent). */
function withParams(request: HttpRequest, query: URLSearchParams, params: Record<string, string>): HttpRequest {
  return new Proxy(request, {
    get(target, property) {
      if (property === 'query') return query;
      if (property === 'params') return params;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function withFunctionName(context: InvocationContext, functionName: string): InvocationContext {
  return new Proxy(context, {
    get(target, property) {
      if (property === 'functionName') return functionName;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Serves a request whose path is in its `resource` parameter, or answers undefined when it is not one. */
export async function serveQueryRoute(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit | undefined> {
  const url = new URL(request.url);
  if (url.pathname !== '/') return undefined;
  const resource = url.searchParams.get('resource');
  const slash = resource?.indexOf('/') ?? -1;
  if (!resource || slash <= 0) return undefined;
  const found = match(resource.slice(slash + 1).split('/').filter((s) => s !== ''));
  if (!found) return undefined;
  for (const [name, value] of Object.entries(found.params)) requireSafeId(value, name);
  const query = new URLSearchParams(url.searchParams);
  query.set('resource', resource.slice(0, slash));
  return found.route.handler(withParams(request, query, found.params), withFunctionName(context, found.route.functionName));
}
