import { app } from '@azure/functions';
import { existingServices, services } from '../shared/services.js';

/**
 * HTTP streaming: request and response bodies flow as streams (the host proxies them to the worker)
 * instead of being buffered whole, so large uploads and downloads never sit in memory.
 */
app.setup({ enableHttpStream: true });

/**
 * At start: the settings are read (invalid ones, such as a geography without its own accounts in
 * strict residency, stop the app with every problem named) and, where the infrastructure declares
 * the stores (STORE_PROVISIONING=verify), their presence is checked in the background and anything
 * missing is logged line by line.
 */
app.hook.appStart(() => {
  void services()
    .readiness.check()
    .catch(() => undefined);
  // Inbound SMS and delivery receipts arrive on the carrier links: bind them now (in the background;
  // without configured carriers nothing happens and the SMPP package is not loaded).
  try {
    services().sms.connectLinks();
  } catch {
    // Invalid settings: the readiness check and every request report them.
  }
});

/** The carrier links unbind when the app stops. */
app.hook.appTerminate(async () => {
  await existingServices()
    ?.sms.dispose()
    .catch(() => undefined);
});
