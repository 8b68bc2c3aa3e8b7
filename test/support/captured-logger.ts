import { createLogger, type Logger } from '../../shared/telemetry/logger.js';

/** A logger of the app's own kind (createLogger) whose records, without their time, are kept for the test to read. */
export function capturedLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ pseudonymize: (s) => s, level: 'debug', sink: ({ time: _time, ...record }) => lines.push(record) });
  return { logger, lines };
}
