import { execFile, fork, type ChildProcess } from 'node:child_process';
import { access, mkdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './bench-stack.js';
import type { ChildReply, ChildRequest } from './chat-send-child.js';

const run = promisify(execFile);

/**
 * The code before this repository's send and batch changes (the main branch they started from): the
 * default baseline of the comparison. A commit id, so it works in any clone with the history.
 */
export const DEFAULT_BASELINE_REF = '0ee9f223896415e018a6476eaf6d19c1f94d3390';

/**
 * Chat send latency at 1 sender against another commit's code, in the same run: the baseline commit
 * (`BENCH_BASELINE_REF`, default DEFAULT_BASELINE_REF; `none` skips this) is extracted with `git
 * archive` into a temporary folder, given this checkout's node_modules (a symlink) and compiled with
 * its own tsconfig by this checkout's tsc (kept for the next run). Both builds, and this build once
 * more with the revocation lookup cached, then run in processes of their own, each with its own local
 * stack, driven by the same code (chat-send-child.ts); they take turns, a round of sends each, in an
 * order that changes every round, so load on the machine falls on all alike. Reported: each side's
 * p50 and store requests per send, and the ratio of each p50 to the baseline's.
 */
export async function chatSendComparison(options: { storeRoundTripMs?: number; rounds?: number; sends?: number } = {}): Promise<string[]> {
  const ref = process.env.BENCH_BASELINE_REF ?? DEFAULT_BASELINE_REF;
  if (ref === 'none') return [];
  const rounds = options.rounds ?? Number(process.env.BENCH_CHAT_BASELINE_ROUNDS ?? 20);
  const sends = options.sends ?? Number(process.env.BENCH_CHAT_BASELINE_SENDS ?? 100);
  const roundTripMs = options.storeRoundTripMs ?? 0;
  let baseline: { root: string; commit: string };
  try {
    baseline = await materialize(ref);
  } catch (error) {
    return [`chat send against ${ref}: not compared (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`];
  }
  const sides = [
    await Side.start('this build', repoRoot, {}, roundTripMs),
    await Side.start(`baseline ${baseline.commit.slice(0, 7)}`, baseline.root, {}, roundTripMs),
    // This build with the revocation lookup cached (TOKEN_REVOCATION_CACHE_MS, off by default): what that setting saves.
    await Side.start('this build, revocation cache 5 s', repoRoot, { TOKEN_REVOCATION_CACHE_MS: '5000' }, roundTripMs),
  ];
  try {
    for (let round = 0; round < rounds; round += 1) {
      // Each round in another order (a rotation, reversed every other round), so no side always goes first or last.
      const rotated = [...sides.slice(round % sides.length), ...sides.slice(0, round % sides.length)];
      for (const side of round % 2 === 0 ? rotated : rotated.reverse()) await side.round(sends);
    }
  } finally {
    await Promise.all(sides.map((side) => side.stop()));
  }
  const [current, previous, cached] = sides as [Side, Side, Side];
  const ratio = (side: Side) => {
    const ratios = side.roundP50s.map((p50, i) => p50 / previous.roundP50s[i]!).sort((a, b) => a - b);
    return `${(side.p50() / previous.p50()).toFixed(2)}; per round ${ratios[0]!.toFixed(2)} to ${ratios.at(-1)!.toFixed(2)}`;
  };
  return [
    `chat send, 1 sender, ${rounds} rounds of ${sends} sends per side in turns, each side in its own process and stack${roundTripMs > 0 ? `, every store answer held ${roundTripMs} ms (a round trip)` : ''}:`,
    ...sides.map((side) => `  ${side.label.padEnd(34)} p50 ${side.p50().toFixed(2).padStart(6)} ms  p99 ${side.percentile(99).toFixed(2).padStart(6)} ms  ${side.requestsPerSend().toFixed(2)} store requests per send`),
    `  p50 ratio (this build / baseline): ${ratio(current)}`,
    `  p50 ratio (this build with the revocation cache / baseline): ${ratio(cached)}`,
  ];
}

/** The baseline commit's sources, built, in a temporary folder (reused while it is there). */
async function materialize(ref: string): Promise<{ root: string; commit: string }> {
  const { stdout } = await run('git', ['-C', repoRoot, 'rev-parse', '--verify', `${ref}^{commit}`]);
  const commit = stdout.trim();
  const root = join(tmpdir(), `acs-residency-baseline-${commit}`);
  const built = join(root, '.built');
  if (await exists(built)) return { root, commit };
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const tar = join(tmpdir(), `acs-residency-baseline-${commit}.tar`);
  await run('git', ['-C', repoRoot, 'archive', '--format=tar', '-o', tar, commit]);
  await run('tar', ['-xf', tar, '-C', root]);
  await rm(tar, { force: true });
  await symlink(await realpath(join(repoRoot, 'node_modules')), join(root, 'node_modules'), 'dir');
  await run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { maxBuffer: 16 * 1024 * 1024 });
  await writeFile(built, `${commit}\n`);
  return { root, commit };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** One build's child process: its latencies and store requests over all rounds. */
class Side {
  readonly latencies: number[] = [];
  readonly roundP50s: number[] = [];
  #requests = 0;
  #pending?: { resolve(reply: ChildReply): void; reject(error: Error): void };

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (reply: ChildReply) => this.#pending?.resolve(reply));
    child.on('exit', (code) => this.#pending?.reject(new Error(`${label}: the benchmark process ended (${code})`)));
  }

  static async start(label: string, root: string, env: Record<string, string>, storeRoundTripMs: number): Promise<Side> {
    const child = fork(join(repoRoot, 'dist', 'bench', 'chat-send-child.js'), [root, JSON.stringify(env), String(storeRoundTripMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const side = new Side(label, child);
    const ready = await side.#next();
    if ('error' in ready) throw new Error(`${label}: ${ready.error}`);
    return side;
  }

  async round(sends: number): Promise<void> {
    this.child.send({ cmd: 'round', sends } satisfies ChildRequest);
    const reply = await this.#next();
    if ('error' in reply) throw new Error(`${this.label}: ${reply.error}`);
    if (!('latencies' in reply)) throw new Error(`${this.label}: unexpected answer`);
    this.latencies.push(...reply.latencies);
    this.roundP50s.push(percentile(reply.latencies, 50));
    this.#requests += reply.requests;
  }

  p50(): number {
    return this.percentile(50);
  }

  percentile(p: number): number {
    return percentile(this.latencies, p);
  }

  requestsPerSend(): number {
    return this.#requests / Math.max(1, this.latencies.length);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ cmd: 'stop' } satisfies ChildRequest);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (this.child.exitCode === null) this.child.kill();
  }

  #next(): Promise<ChildReply> {
    return new Promise((resolve, reject) => (this.#pending = { resolve, reject }));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
