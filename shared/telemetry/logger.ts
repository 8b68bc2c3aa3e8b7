import type { Pseudonymizer } from './pseudonymizer.js';

/**
 * Structured logging that cannot carry personal data by accident: fields are typed, and the only
 * place an identity, phone number or e-mail address may go is `subjects`, which is always hashed.
 * Message text, tokens and keys have no field to go into.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogFields {
  correlationId?: string;
  resourceId?: string;
  geography?: string;
  function?: string;
  route?: string;
  method?: string;
  status?: number;
  durationMs?: number;
  count?: number;
  code?: string;
  errorName?: string;
  /** A non-personal description of what failed (error messages of our own code or SDK status text). */
  detail?: string;
  /** Identities, phone numbers, e-mail addresses: logged only as keyed hashes. */
  subjects?: string[];
}

export interface LogRecord extends Omit<LogFields, 'subjects'> {
  level: LogLevel;
  time: string;
  event: string;
  subjects?: string[];
}

export type LogSink = (record: LogRecord) => void;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** Scrubs strings that look like secrets out of free-text details, as a second line of defence. */
export function scrubDetail(detail: string): string {
  return detail
    .replace(/(accountkey|accesskey|sig|key|signature|token)=([^;&\s]+)/gi, '$1=***')
    .replace(/(bearer|hmac-sha256)\s+[^\s,]+/gi, '$1 ***')
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '***jwt***')
    .replace(/\b8(:|%3A)[\w-]+(:|%3A)[\w:%.-]+/gi, '***id***')
    .replace(/[\w.+-]+@[\w-]+\.[\w.-]+/g, '***email***')
    .replace(/\+\d{7,15}\b/g, '***phone***')
    .slice(0, 500);
}

export function createLogger(options: { pseudonymize: Pseudonymizer; level?: LogLevel; sink?: LogSink }): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const sink: LogSink = options.sink ?? ((record) => process.stdout.write(JSON.stringify(record) + '\n'));
  const log = (level: LogLevel, event: string, fields: LogFields = {}) => {
    if (LEVELS[level] < threshold) return;
    const { subjects, detail, ...rest } = fields;
    const record: LogRecord = { level, time: new Date().toISOString(), event, ...rest };
    if (detail !== undefined) record.detail = scrubDetail(detail);
    if (subjects && subjects.length > 0) record.subjects = subjects.map(options.pseudonymize);
    sink(record);
  };
  return {
    log,
    debug: (e, f) => log('debug', e, f),
    info: (e, f) => log('info', e, f),
    warn: (e, f) => log('warn', e, f),
    error: (e, f) => log('error', e, f),
  };
}
