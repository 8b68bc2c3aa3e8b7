import { app } from '@azure/functions';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/console.ts). */
const handlers = () => import('./handlers/console.js');

/** The privacy console, served at /console (static files; see functions/handlers/console.ts). */
app.http('console', {
  route: 'console/{*path}',
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  handler: lazyHandler(handlers, 'serveConsole'),
});
