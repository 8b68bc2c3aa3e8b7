import { Cron } from 'croner';
import type { RegisteredFunction } from './functions-core-shim.js';
import { triggerBinding, type FunctionInvoker } from './function-invoker.js';

/**
 * Runs timer-triggered functions on their schedules, as the Functions host does: six-field NCRONTAB
 * expressions (`{second} {minute} {hour} {day} {month} {day-of-week}`) or a TimeSpan (`hh:mm:ss`),
 * `%SETTING%` references resolved from the app settings, UTC, `runOnStartup`, and never two runs of
 * the same function at once (the host holds a singleton lock per timer).
 */
export interface TimerSchedule {
  describe: string;
  next(after: Date): Date | undefined;
}

export function resolveSettingReference(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const resolved = env[name];
    if (resolved === undefined) throw new Error(`The app setting '${name}' used in a binding expression is not defined`);
    return resolved;
  });
}

export function parseSchedule(expression: string): TimerSchedule {
  const timeSpan = /^(\d+):(\d{2}):(\d{2})$/.exec(expression.trim());
  if (timeSpan) {
    const ms = (Number(timeSpan[1]) * 3600 + Number(timeSpan[2]) * 60 + Number(timeSpan[3])) * 1000;
    if (ms <= 0) throw new Error(`Timer interval '${expression}' must be positive`);
    return { describe: expression, next: (after) => new Date(after.getTime() + ms) };
  }
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(`'${expression}' is not a six-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week})`);
  }
  const cron = new Cron(expression, { paused: true, timezone: 'UTC' });
  return { describe: expression, next: (after) => cron.nextRun(after) ?? undefined };
}

interface ScheduledTimer {
  fn: RegisteredFunction;
  schedule: TimerSchedule;
  handle?: NodeJS.Timeout;
  /** The run under way, if any. */
  current?: Promise<void>;
  last?: Date;
}

export class TimerScheduler {
  readonly #timers: ScheduledTimer[] = [];
  #stopped = true;

  constructor(
    private readonly invoker: FunctionInvoker,
    private readonly env: Record<string, string | undefined>,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Validates every timer's schedule (a bad one fails start-up, as in the host) and starts them; with
   * `scheduled` false they only run when asked (the admin endpoint), as on an instance that does not
   * hold the timers' singleton lock.
   */
  start(functions: RegisteredFunction[], scheduled = true): void {
    this.#stopped = false;
    for (const fn of functions) {
      const [, binding] = triggerBinding(fn);
      if (binding.type?.toLowerCase() !== 'timertrigger') continue;
      const schedule = parseSchedule(resolveSettingReference(String(binding.schedule), this.env));
      const timer: ScheduledTimer = { fn, schedule };
      this.#timers.push(timer);
      if (!scheduled) continue;
      this.#arm(timer);
      if (binding.runOnStartup === true) void this.run(fn.metadata.name, false);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer.handle);
    this.#timers.length = 0;
  }

  /** Runs a timer function now, unless a run of it is under way (the schedule comes here). */
  run(name: string, isPastDue: boolean): Promise<void> {
    const timer = this.#timers.find((t) => t.fn.metadata.name === name);
    if (!timer || timer.current) return Promise.resolve();
    const current = this.#invoke(timer, isPastDue).finally(() => (timer.current = undefined));
    timer.current = current;
    return current;
  }

  /**
   * Runs a timer function now, after the run under way if there is one (the admin endpoint comes
   * here): asked to run, it runs, and never two runs at once. Skipping it, as a scheduled occurrence
   * is skipped, made a test that moved its clock and asked for a run see the scheduled run begun
   * before the move instead (seen once in a full run).
   */
  async runNow(name: string): Promise<void> {
    const timer = this.#timers.find((t) => t.fn.metadata.name === name);
    while (timer?.current) await timer.current;
    return this.run(name, false);
  }

  async #invoke(timer: ScheduledTimer, isPastDue: boolean): Promise<void> {
    const now = new Date();
    const [bindingName] = triggerBinding(timer.fn);
    const payload = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: { Last: (timer.last ?? now).toISOString(), Next: timer.schedule.next(now)?.toISOString(), LastUpdated: now.toISOString() },
      IsPastDue: isPastDue,
    };
    try {
      await this.invoker.invoke(timer.fn, { inputData: [{ name: bindingName, data: { json: JSON.stringify(payload) } }] });
    } catch (error) {
      this.log(`timer ${timer.fn.metadata.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      timer.last = now;
    }
  }

  #arm(timer: ScheduledTimer): void {
    if (this.#stopped) return;
    const next = timer.schedule.next(new Date());
    if (!next) return;
    const delay = Math.max(0, next.getTime() - Date.now());
    // setTimeout holds at most ~24.8 days; re-arm for longer waits.
    const wait = Math.min(delay, 2 ** 31 - 1);
    timer.handle = setTimeout(() => {
      if (wait < delay) return this.#arm(timer);
      void this.run(timer.fn.metadata.name, Date.now() - next.getTime() > 1000).finally(() => this.#arm(timer));
    }, wait);
    timer.handle.unref();
  }
}
