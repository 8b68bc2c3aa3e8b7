import { app } from '@azure/functions';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/chat-deletion-sweep.ts). */
const handlers = () => import('./handlers/chat-deletion-sweep.js');

/**
 * Every 5 minutes: finishes chat thread deletions that were interrupted half-way (the thread is
 * already gone for every API; this removes the messages and receipts left behind), in every geography.
 */
app.timer('chatDeletionSweep', {
  schedule: '0 */5 * * * *',
  handler: lazyHandler(handlers, 'chatDeletionSweep'),
});
