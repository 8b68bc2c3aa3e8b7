import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * More instances of the function app against the same stores, as Azure Functions scales out: each
 * extra instance is a process of its own (so it can be killed like a real instance, and it runs
 * in parallel) that loads the same function files and serves them with its own development host on
 * its own ports, polling the same queues. Its settings are the first instance's, with every store
 * already pointing at the first instance's emulators, so it starts none of its own. Timers run only
 * on the first instance: the Functions host runs a timer on one instance at a time (a singleton
 * lock), and the first instance is the lock holder here (an extra instance runs a timer only when
 * asked through its admin endpoint). An extra instance uses the system clock and settings only (no
 * credential given in code).
 */
export interface InstanceConfig {
  name: string;
  env: Record<string, string | undefined>;
  functionsDir: string;
  certDir: string;
  routePrefix: string;
  queues?: Record<string, unknown>;
  processingVisibilitySeconds?: number;
  trustedCertificates?: string;
}

export interface HostInstance {
  name: string;
  pid: number;
  httpUrl: string;
  httpsUrl: string;
  /** Successful queue function runs on this instance, by function name. */
  completed(): Promise<Record<string, number>>;
  /** Stops polling, lets the runs in progress finish, and exits. */
  stop(): Promise<void>;
  /** Ends the process at once (SIGKILL): its messages in progress come back after their visibility timeout. */
  kill(): Promise<void>;
  /**
   * Has the process end itself (SIGKILL) the moment it has completed at least `completed` runs of
   * queue function `fn` and has at least `invoking` runs of it in their function (not yet finishing
   * their message): checked in the process itself every millisecond, so none of those can finish in
   * between. Resolves once it has exited.
   */
  dieWhen(fn: string, at: { completed: number; invoking: number }): Promise<void>;
}

export type ToInstance = { type: 'start'; config: InstanceConfig } | { type: 'completed' } | { type: 'stop' } | { type: 'dieWhen'; fn: string; completed: number; invoking: number };
export type FromInstance =
  | { type: 'log'; line: string }
  | { type: 'started'; httpUrl: string; httpsUrl: string }
  | { type: 'failed'; message: string }
  | { type: 'completed'; completed: Record<string, number> };

/** Starts an extra instance; resolves once it serves and polls. */
export async function startHostInstance(config: InstanceConfig, log: (line: string) => void): Promise<HostInstance> {
  const source = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(source ? './host-instance.ts' : './host-instance.js', import.meta.url));
  // The tests run the TypeScript sources: the child loads them the same way (esbuild strips the types).
  const execArgv = source ? ['--import', new URL('./ts-loader.mjs', import.meta.url).href] : [];
  const child = fork(entry, [], { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
  const prefix = `[${config.name}] `;
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') log(prefix + line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = await new Promise<{ httpUrl: string; httpsUrl: string }>((resolve, reject) => {
    const onMessage = (message: FromInstance) => {
      if (message.type === 'started') resolve(message);
      if (message.type === 'failed') reject(new Error(`${config.name} did not start: ${message.message}`));
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`${config.name} exited with ${code} while starting`)));
    send(child, { type: 'start', config });
  });
  child.on('message', (message: FromInstance) => {
    if (message.type === 'log') log(prefix + message.line);
  });
  const completed = () =>
    new Promise<Record<string, number>>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`${config.name} is not running`));
      const onMessage = (message: FromInstance) => {
        if (message.type !== 'completed') return;
        child.off('message', onMessage);
        resolve(message.completed);
      };
      child.on('message', onMessage);
      send(child, { type: 'completed' });
    });
  return {
    name: config.name,
    pid: child.pid!,
    ...started,
    completed,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) send(child, { type: 'stop' });
      await exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    dieWhen: async (fn, at) => {
      if (child.exitCode === null && child.signalCode === null) send(child, { type: 'dieWhen', fn, ...at });
      await exited;
    },
  };
}

function send(child: ChildProcess, message: ToInstance): void {
  child.send(message);
}
