import { app } from '@azure/functions';
import { settingsEnv } from '../shared/config/settings-env.js';

/**
 * HTTP streaming: request and response bodies flow as streams (the host proxies them to the worker)
 * instead of being buffered whole, so large uploads and downloads never sit in memory.
 */
app.setup({ enableHttpStream: true });

/**
 * At start: the settings are read, and invalid ones (such as a geography without its own accounts in
 * strict residency) stop the app with every problem named. Only the settings module loads for that;
 * the composition root and the domain code load right after, in the background (the first invocation
 * awaits the same load: shared/lazy-handler.ts), and then, where the infrastructure declares the
 * stores (STORE_PROVISIONING=verify), their presence is checked and anything missing is logged line
 * by line, and the SMS carrier links are bound.
 */
app.hook.appStart(async () => {
  const { parseSettings } = await import('../shared/config/settings.js');
  parseSettings(settingsEnv());
  void import('../shared/services.js')
    .then(({ services }) => {
      void services()
        .readiness.check()
        .catch(() => undefined);
      // Inbound SMS and delivery receipts arrive on the carrier links: bind them now (without
      // configured carriers nothing happens and the SMPP package is not loaded).
      services().sms.connectLinks();
    })
    .catch(() => {
      // Settings that became invalid since: the readiness check and every request report them.
    });
});

/** The carrier links unbind when the app stops. */
app.hook.appTerminate(async () => {
  const { existingServices } = await import('../shared/services.js');
  await existingServices()
    ?.sms.dispose()
    .catch(() => undefined);
});
