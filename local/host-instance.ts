import type { FromInstance, ToInstance } from './host-instances.js';
import { startLocalStack, type LocalStack } from './stack.js';

/**
 * The process of an extra development host instance (local/host-instances.ts starts it): it waits
 * for its settings over IPC, starts a host on the stores they name (no emulators of its own, no
 * timers on their schedules), and answers for the parent until it is told to stop or is killed.
 */
const reply = (message: FromInstance) => process.send?.(message);
let stack: LocalStack | undefined;

process.on('message', (message: ToInstance) => {
  void (async () => {
    if (message.type === 'start') {
      try {
        const { config } = message;
        stack = await startLocalStack({
          env: config.env,
          functionsDir: config.functionsDir,
          certDir: config.certDir,
          routePrefix: config.routePrefix,
          ports: { http: 0, https: 0, cosmos: 0, blob: 0, queue: 0, eventGrid: 0 },
          ...(config.queues ? { queues: config.queues } : {}),
          ...(config.trustedCertificates ? { trustedCertificates: config.trustedCertificates } : {}),
          ...(config.processingVisibilitySeconds ? { processingVisibilitySeconds: config.processingVisibilitySeconds } : {}),
          timers: false,
          log: (line) => reply({ type: 'log', line }),
        });
        reply({ type: 'started', httpUrl: stack.httpUrl, httpsUrl: stack.httpsUrl });
      } catch (error) {
        reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      }
    } else if (message.type === 'completed') {
      reply({ type: 'completed', completed: Object.fromEntries(stack?.host.queueTriggers.completed ?? []) });
    } else if (message.type === 'dieWhen') {
      const triggers = stack?.host.queueTriggers;
      setInterval(() => {
        if ((triggers?.completed.get(message.fn) ?? 0) >= message.completed && (triggers?.invoking.get(message.fn) ?? 0) >= message.invoking) process.kill(process.pid, 'SIGKILL');
      }, 1);
    } else if (message.type === 'stop') {
      await stack?.stop();
      process.exit(0);
    }
  })();
});
// The parent went away: so does this instance.
process.on('disconnect', () => process.exit(0));
