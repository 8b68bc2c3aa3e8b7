import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { RegisteredFunction } from './functions-core-shim.js';
import { triggerBinding, type FunctionInvoker, type RpcTypedData } from './function-invoker.js';
import { readRequestBody } from './read-request.js';

/**
 * Serves one HTTP request with an HTTP-triggered function, in either of the worker's two modes:
 * - buffered: the request travels as RpcHttpData (body bytes) and the response comes back in the
 *   invocation result;
 * - streaming (`app.setup({ enableHttpStream: true })`): the request is forwarded to the worker's
 *   HTTP proxy with `x-ms-invocation-id` and the response streams back from it, so large bodies are
 *   never held in memory.
 * Returns the status sent.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export interface HttpTriggerCall {
  fn: RegisteredFunction;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  invocationId: string;
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export async function serveHttpTrigger(invoker: FunctionInvoker, call: HttpTriggerCall): Promise<number> {
  const streamUri = await invoker.httpStreamUri();
  return streamUri ? serveStreaming(invoker, call, streamUri) : serveBuffered(invoker, call);
}

async function serveBuffered(invoker: FunctionInvoker, call: HttpTriggerCall): Promise<number> {
  const { fn, req, res, url, params, invocationId } = call;
  const body = await readRequestBody(req);
  const [bindingName] = triggerBinding(fn);
  const http: Record<string, unknown> = {
    method: req.method,
    url: url.toString(),
    headers: headerRecord(req),
    query: Object.fromEntries(url.searchParams),
    params,
    body: { bytes: body },
  };
  let status: number;
  try {
    const result = await invoker.invoke(fn, { inputData: [{ name: bindingName, data: { http } }] }, invocationId);
    const rpc = (result.returnValue?.http ?? findHttpOutput(result.outputData)) as
      | { statusCode?: string; headers?: Record<string, string>; body?: RpcTypedData }
      | undefined;
    status = Number(rpc?.statusCode ?? 204);
    res.statusCode = status;
    for (const [key, value] of Object.entries(rpc?.headers ?? {})) if (!HOP_BY_HOP.has(key.toLowerCase())) res.setHeader(key, value);
    const body = rpc?.body;
    res.end(body?.bytes ? Buffer.from(body.bytes) : (body?.string ?? ''));
  } catch {
    res.statusCode = status = 500;
    res.end();
  }
  return status;
}

function findHttpOutput(outputData: unknown[] | null | undefined): unknown {
  for (const entry of outputData ?? []) {
    const data = (entry as { data?: { http?: unknown } }).data;
    if (data?.http) return data.http;
  }
  return undefined;
}

async function serveStreaming(invoker: FunctionInvoker, call: HttpTriggerCall, streamUri: string): Promise<number> {
  const { fn, req, res, url, params, invocationId } = call;
  const [bindingName] = triggerBinding(fn);
  const headers = headerRecord(req);
  // Path and query set on the stream URI's origin, not resolved against it: a path that starts with
  // `//` would otherwise be read as another host.
  const target = new URL(streamUri);
  target.pathname = url.pathname;
  target.search = url.search;
  const triggerMetadata: Record<string, RpcTypedData> = {
    Headers: { json: JSON.stringify(headers) },
    Query: { json: JSON.stringify(Object.fromEntries(url.searchParams)) },
  };
  for (const [key, value] of Object.entries(params)) triggerMetadata[key] = { string: value };

  return new Promise<number>((resolve) => {
    let settled = false;
    const finish = (status: number) => {
      if (!settled) {
        settled = true;
        resolve(status);
      }
    };
    const proxyReq = http.request(target, {
      method: req.method,
      headers: {
        ...headers,
        'x-ms-invocation-id': invocationId,
        'x-forwarded-host': url.host,
        'x-forwarded-proto': url.protocol.replace(':', ''),
      },
    });
    proxyReq.on('response', (proxyRes) => {
      // An event handler: anything thrown here would end the process, so a failure is a 500.
      try {
        res.statusCode = proxyRes.statusCode ?? 500;
        for (const [key, value] of Object.entries(proxyRes.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(key) && key !== 'x-ms-invocation-id') res.setHeader(key, value);
        }
      } catch {
        proxyRes.destroy();
        if (!res.headersSent) {
          for (const name of res.getHeaderNames()) res.removeHeader(name);
          res.statusCode = 500;
          res.end();
        } else res.destroy();
        finish(500);
        return;
      }
      proxyRes.pipe(res);
      proxyRes.on('end', () => finish(res.statusCode));
      proxyRes.on('error', () => {
        res.destroy();
        finish(res.statusCode);
      });
      // The client went away mid-response: stop reading from the worker.
      res.on('close', () => {
        if (!proxyRes.complete) proxyRes.destroy();
        finish(res.statusCode);
      });
    });
    proxyReq.on('error', () => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else res.destroy();
      finish(500);
    });
    req.pipe(proxyReq);
    // The client went away (say, before its body was complete): the proxy request goes too, which
    // fails the function's read of the body; the host answers nobody.
    req.on('aborted', () => proxyReq.destroy());
    req.on('error', () => proxyReq.destroy());

    invoker.invoke(fn, { inputData: [{ name: bindingName, data: { http: {} } }], triggerMetadata }, invocationId).catch(() => {
      // The function failed: the worker never answers the proxy request, so the host answers 500.
      proxyReq.destroy();
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
      finish(500);
    });
  });
}

