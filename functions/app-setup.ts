import { app } from '@azure/functions';

/**
 * HTTP streaming: request and response bodies flow as streams (the host proxies them to the worker)
 * instead of being buffered whole, so large uploads and downloads never sit in memory.
 */
app.setup({ enableHttpStream: true });
