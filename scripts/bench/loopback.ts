// Loopback submit_sm → submit_sm_resp throughput, ours against the `smpp` package, server and client
// in separate processes on 127.0.0.1.
//
// One run = one implementation, one scenario (binds × messages): a fresh server process and a fresh
// client process of that implementation. The client binds, sends a warm-up batch (untimed, so both
// processes have compiled their hot paths), then, on the orchestrator's signal, the timed batch:
// a fixed number of submit_sm with the same number in flight per bind for both implementations.
// The client times from its first send to its last response; both processes report the CPU they
// used during the timed batch. Rounds repeat every run, alternating which implementation goes first;
// figures are medians over rounds and ratios are between medians.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MT, SHORT_MESSAGE, LONG_MESSAGE, summarize, type Summary } from './common.js';
import type { ClientDone, ClientStart, FromChild, ServerReport, ToClient, ToServer } from './ipc.js';

export type Impl = 'ours' | 'smpp';

/**
 * Another build of our implementation to race against `ours` in the same run (A/B evidence for a
 * proposed src change): `dist` is the root of a compiled tree (a copy of dist/ with the change)
 * holding scripts/bench/server-ours.js and client-ours.js.
 */
export interface Variant {
  label: string;
  dist: string;
}

export interface Scenario {
  binds: number;
  count: number;
}

export interface LoopbackOptions {
  scenarios: Scenario[];
  /** Requests in flight per bind, both implementations. */
  window: number;
  /** Untimed messages per run, before the timed batch. */
  warmup: number;
  rounds: number;
  message: 'short' | 'long';
  /** A run that has not finished after this long fails the benchmark. */
  limitMs: number;
  /** Write V8 CPU profiles (node --cpu-prof) of these implementations' processes into `dir`. */
  cpuProf?: { dir: string; impls: Impl[] };
  /** Leave out the smpp runs (A/B runs between builds of ours). */
  skipSmpp?: boolean;
  variants?: Variant[];
  log?: (line: string) => void;
}

export const DEFAULT_LOOPBACK_OPTIONS: LoopbackOptions = {
  scenarios: [
    { binds: 1, count: 50_000 },
    { binds: 4, count: 100_000 },
  ],
  window: 100,
  warmup: 10_000,
  rounds: 5,
  message: 'short',
  limitMs: 60_000,
};

export interface RunResult {
  /** 'ours', 'smpp', or a variant's label. */
  impl: string;
  binds: number;
  count: number;
  round: number;
  elapsedMs: number;
  msgsPerSec: number;
  /** CPU time (user + system) per message, in microseconds. */
  clientCpuUsPerMsg: number;
  serverCpuUsPerMsg: number;
  maxInFlight: number;
  perBind: number[];
}

export interface ScenarioResult extends Scenario {
  window: number;
  ours: Summary;
  smpp: Summary;
  /** ours/smpp msgs/s, from the medians. */
  ratio: number;
  /** ours/smpp per round, for the spread. */
  roundRatios: number[];
  cpuUsPerMsg: Record<Impl, { client: number; server: number }>;
  /** Per variant label: its msgs/s, and variant/ours from the medians and per round. */
  variants?: Record<string, { rate: Summary; ratioVsOurs: number; roundRatiosVsOurs: number[]; cpuUsPerMsg: { client: number; server: number } }>;
}

export interface LoopbackResult {
  config: Omit<LoopbackOptions, 'log' | 'cpuProf'> & { messageBytes: number; fields: typeof MT; cpuProfDir?: string };
  scenarios: ScenarioResult[];
  runs: RunResult[];
}

const PROGRAMS: Record<string, { server: string; client: string }> = {
  ours: { server: program('server-ours.js'), client: program('client-ours.js') },
  smpp: { server: program('server-smpp.js'), client: program('client-smpp.js') },
};

function programsOf(options: LoopbackOptions, impl: string): { server: string; client: string } {
  const v = options.variants?.find((x) => x.label === impl);
  if (v === undefined) return PROGRAMS[impl]!;
  return { server: path.join(v.dist, 'scripts/bench/server-ours.js'), client: path.join(v.dist, 'scripts/bench/client-ours.js') };
}

function program(file: string): string {
  return fileURLToPath(new URL(`./${file}`, import.meta.url));
}

type MessageOf<T extends FromChild['type']> = Extract<FromChild, { type: T }>;

/** A child process and the messages it sends, awaited one at a time, each with a time limit. */
class Child {
  private readonly inbox: FromChild[] = [];
  private waiter: ((m: FromChild | Error) => void) | undefined;
  private exitError: Error | undefined;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on('message', (m: FromChild) => this.deliver(m));
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        // Nothing more will come: whoever waits for a message learns it now, not at its timeout.
        this.exitError = new Error(`${name} exited with ${signal ?? `code ${code}`}`);
        this.deliver(this.exitError);
        resolve();
      });
    });
    proc.on('error', (err) => this.deliver(new Error(`${name}: ${err.message}`)));
  }

  private deliver(m: FromChild | Error): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(m);
    } else if (!(m instanceof Error)) {
      this.inbox.push(m);
    }
  }

  send(msg: ToServer | ToClient): void {
    this.proc.send(msg);
  }

  next<T extends FromChild['type']>(type: T, ms: number): Promise<MessageOf<T>> {
    const queued = this.inbox.shift();
    return new Promise<MessageOf<T>>((resolve, reject) => {
      const take = (m: FromChild | Error): void => {
        clearTimeout(timer);
        if (m instanceof Error) reject(m);
        else if (m.type === 'error') reject(new Error(`${this.name} failed: ${m.message}`));
        else if (m.type !== type) reject(new Error(`${this.name}: expected ${type}, got ${m.type}`));
        else resolve(m as MessageOf<T>);
      };
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`${this.name}: no ${type} within ${ms} ms`));
      }, ms);
      if (queued !== undefined) take(queued);
      else if (this.exitError) take(this.exitError);
      else this.waiter = take;
    });
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

function spawn(name: string, file: string, execArgv: string[]): Child {
  // The children's stdout goes to our stderr, so that `--json` output stays clean.
  return new Child(name, fork(file, [], { execArgv, stdio: ['ignore', 2, 2, 'ipc'] }));
}

function profArgs(options: LoopbackOptions, impl: string, role: string, s: Scenario, round: number): string[] {
  const p = options.cpuProf;
  if (p === undefined || !(p.impls as string[]).includes(impl)) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${p.dir}`, `--cpu-prof-name=${impl}-${role}-${s.binds}bind-r${round + 1}.cpuprofile`];
}

async function runOnce(options: LoopbackOptions, impl: string, s: Scenario, round: number): Promise<RunResult> {
  const tag = `${impl} ${s.binds}b r${round + 1}`;
  const server = spawn(`${tag} server`, programsOf(options, impl).server, profArgs(options, impl, 'server', s, round));
  let client: Child | undefined;
  try {
    const { port } = await server.next('listening', 15_000);
    client = spawn(`${tag} client`, programsOf(options, impl).client, profArgs(options, impl, 'client', s, round));
    const start: ClientStart = {
      type: 'start',
      port,
      binds: s.binds,
      window: options.window,
      warmup: options.warmup,
      count: s.count,
      messageBytes: (options.message === 'short' ? SHORT_MESSAGE : LONG_MESSAGE).length,
      limitMs: options.limitMs,
    };
    client.send(start);
    await client.next('warmed', options.limitMs);
    server.send({ type: 'mark' });
    await server.next('marked', 10_000);
    client.send({ type: 'go' });
    const done: ClientDone = await client.next('done', options.limitMs);
    server.send({ type: 'report' });
    const report: ServerReport = await server.next('report', 10_000);
    if (done.errors > 0) throw new Error(`${tag}: ${done.errors} responses with an error status`);
    if (report.handled !== done.count) throw new Error(`${tag}: server answered ${report.handled}, client counted ${done.count}`);
    if (done.maxInFlight > options.window) throw new Error(`${tag}: ${done.maxInFlight} in flight on one bind, window is ${options.window}`);
    client.send({ type: 'exit' });
    await client.next('closed', 15_000);
    server.send({ type: 'exit' });
    await server.next('closed', 15_000);
    await Promise.all([client.exited, server.exited]);
    const cpu = (c: { userUs: number; systemUs: number }) => (c.userUs + c.systemUs) / done.count;
    return {
      impl,
      binds: s.binds,
      count: done.count,
      round: round + 1,
      elapsedMs: done.elapsedMs,
      msgsPerSec: (done.count / done.elapsedMs) * 1000,
      clientCpuUsPerMsg: cpu(done.cpu),
      serverCpuUsPerMsg: cpu(report.cpu),
      maxInFlight: done.maxInFlight,
      perBind: done.perBind,
    };
  } finally {
    client?.kill();
    server.kill();
  }
}

export async function runLoopbackBench(options: LoopbackOptions = DEFAULT_LOOPBACK_OPTIONS): Promise<LoopbackResult> {
  const log = options.log ?? (() => {});
  const runs: RunResult[] = [];
  const impls = ['ours', ...(options.skipSmpp ? [] : ['smpp']), ...(options.variants ?? []).map((v) => v.label)];
  if (new Set(impls).size !== impls.length) throw new Error('variant labels must differ from each other and from ours/smpp');
  for (let r = 0; r < options.rounds; r++) {
    for (const s of options.scenarios) {
      const order = r % 2 === 0 ? impls : [...impls].reverse();
      for (const impl of order) {
        const res = await runOnce(options, impl, s, r);
        runs.push(res);
        log(
          `loopback: round ${r + 1}/${options.rounds} ${impl.padEnd(4)} ${s.binds} bind(s) ${s.count} msgs: ` +
            `${Math.round(res.msgsPerSec)} msgs/s (${res.elapsedMs.toFixed(0)} ms; cpu/msg client ${res.clientCpuUsPerMsg.toFixed(1)} µs, server ${res.serverCpuUsPerMsg.toFixed(1)} µs)`,
        );
      }
    }
  }
  const scenarios = options.scenarios.map((s): ScenarioResult => {
    const of = (impl: string) => runs.filter((x) => x.impl === impl && x.binds === s.binds && x.count === s.count).sort((a, b) => a.round - b.round);
    const ours = of('ours');
    const theirs = of('smpp');
    const o = summarize(ours.map((x) => x.msgsPerSec));
    const t = summarize(theirs.map((x) => x.msgsPerSec));
    const cpu = (xs: RunResult[]) => ({
      client: summarize(xs.map((x) => x.clientCpuUsPerMsg)).median,
      server: summarize(xs.map((x) => x.serverCpuUsPerMsg)).median,
    });
    return {
      ...s,
      window: options.window,
      ours: o,
      smpp: t,
      ratio: o.median / t.median,
      roundRatios: theirs.length === 0 ? [] : ours.map((x, i) => x.msgsPerSec / theirs[i]!.msgsPerSec),
      cpuUsPerMsg: { ours: cpu(ours), smpp: cpu(theirs) },
      ...(options.variants?.length
        ? {
            variants: Object.fromEntries(
              options.variants.map((v) => {
                const xs = of(v.label);
                const rate = summarize(xs.map((x) => x.msgsPerSec));
                return [
                  v.label,
                  {
                    rate,
                    ratioVsOurs: rate.median / o.median,
                    roundRatiosVsOurs: xs.map((x, i) => x.msgsPerSec / (ours[i]?.msgsPerSec ?? NaN)),
                    cpuUsPerMsg: cpu(xs),
                  },
                ];
              }),
            ),
          }
        : {}),
    };
  });
  const { log: _log, cpuProf, ...config } = options;
  return {
    config: {
      ...config,
      messageBytes: (options.message === 'short' ? SHORT_MESSAGE : LONG_MESSAGE).length,
      fields: MT,
      ...(cpuProf ? { cpuProfDir: cpuProf.dir } : {}),
    },
    scenarios,
    runs,
  };
}
