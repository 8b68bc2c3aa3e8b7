import type { HttpHandler } from '@azure/functions';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceError } from '../../shared/errors/service-error.js';
import { errorResponse } from '../../shared/http/responses.js';
import { firstBuiltFolder, StaticFiles } from '../../shared/http/static-files.js';

/**
 * The privacy console (console/, built by `npm run build` with Vite): a single-page app served at
 * /console that works through the management API like any other client. Static files only: no
 * settings, stores or SDKs are touched to serve it. The folder is CONSOLE_DIR when set, else the
 * built console found from this module: `console/` next to the deployment package's app.js (this
 * module is in its chunks/), `dist/console` from dist/functions/handlers/ (npm start) or from the
 * sources' functions/handlers/ (tests).
 */
const here = dirname(fileURLToPath(import.meta.url));
let found: string | undefined;
const files = new StaticFiles(async () => {
  if (process.env.CONSOLE_DIR) return firstBuiltFolder([process.env.CONSOLE_DIR]);
  found ??= await firstBuiltFolder([join(here, '..', 'console'), join(here, '..', '..', 'console'), join(here, '..', '..', 'dist', 'console')]);
  return found;
});

export const serveConsole: HttpHandler = async (request, context) => {
  const path = new URL(request.url).pathname.replace(/^\/console/i, '');
  const answer = await files.serve(request.method, path, request.headers);
  if (answer.status === 405) {
    return errorResponse(new ServiceError('MethodNotAllowed', `The console answers GET and HEAD, not ${request.method}.`, { headers: answer.headers }), context.invocationId);
  }
  if (answer.status === 404) {
    const built = path === '' || path === '/' ? ' The console is not built: run npm run build.' : '';
    return errorResponse(new ServiceError('NotFound', `No console file is served at ${new URL(request.url).pathname}.${built}`), context.invocationId);
  }
  return { status: answer.status, headers: answer.headers, ...(answer.body ? { body: answer.body } : {}) };
};
