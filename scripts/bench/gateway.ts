// End-to-end gateway benchmark: ESME load tool → gateway → SMSC simulator, against the same load
// tool straight to the same simulator (the DIRECT baseline), every program a separate process on
// 127.0.0.1, all of them the shipped CLI (`smppgw sim smsc`, `smppgw start`, `smppgw load`).
//
// One run:
//   1. a temp dir; the simulator (`sim smsc --dlr-delay 0`), one process for the whole run;
//   2. the gateway's database set up with the operator CLI (account, connector → simulator, route),
//      then the gateway (`start`, default durability: store.synchronous from the built-in config);
//   3. phases, each a fresh `smppgw load` process (window W per bind, B binds, --dlr by default):
//        warm-up direct, warm-up gateway (untimed: both long-lived processes compile their hot paths),
//        full direct, full gateway, then half load (`--rate` = gateway MT/s ÷ 2) gateway and direct;
//   4. per phase: the load tool's JSON summary, CPU seconds and peak RSS of every process involved.
//      Simulator and gateway: utime+stime from /proc/<pid>/stat before and after the phase, and
//      VmHWM from /proc/<pid>/status after resetting it (clear_refs 5) at the phase start. Load tool:
//      process.cpuUsage() and resourceUsage().maxRSS written at its exit by a preload
//      (gateway-usage.ts), since its /proc entry is gone when it ends.
// Every wait is bounded (limitMs, default 120 s); children are killed and the temp dir removed in
// every case.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { REPO_ROOT } from './common.js';
import type { LoadSummary } from '../../src/sim/load.js';

export const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const USAGE_PRELOAD = pathToFileURL(fileURLToPath(new URL('./gateway-usage.js', import.meta.url))).href;

export interface GatewayBenchOptions {
  messages: number;
  binds: number;
  window: number;
  dlr: boolean;
  /** Messages in each untimed warm-up run (0: none). */
  warmup: number;
  /** Messages in each half-load run. */
  halfMessages: number;
  /**
   * Binds for the half-load runs, or 'auto': `smppgw load --rate` sleeps per message on each bind
   * (timers ≥ 1 ms), so one bind paces at most ~1,000–1,300 msg/s; auto uses enough binds
   * (rate ÷ 800, at least `binds`) for the pacer to reach the rate.
   */
  halfBinds: number | 'auto';
  /** Account window (per bind) and connector window at the gateway. */
  accountWindow: number;
  connectorWindow: number;
  /** deliver_sm in flight per bind at the simulator. */
  simWindow: number;
  /** Override store.synchronous (SMPPGW_STORE__SYNCHRONOUS); default: the gateway's own default. */
  synchronous?: 'full' | 'normal';
  /** Write a V8 CPU profile of the gateway process (node --cpu-prof) into this directory. */
  cpuProfDir?: string;
  /** Any single wait (start-up, a load run, a shutdown) longer than this fails the run. */
  limitMs: number;
  log: (line: string) => void;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max?: number;
  mean?: number;
}

export interface ProcUsage {
  cpuSec: number;
  peakRssMiB: number;
}

export interface PhaseResult {
  name: string;
  target: 'gateway' | 'direct';
  count: number;
  binds: number;
  rate: number;
  wallMs: number;
  exitCode: number | null;
  summary: LoadSummary;
  usage: { load: ProcUsage; sim: ProcUsage; gateway?: ProcUsage };
  /** Gateway phases: SQLite group commits and the writes in them during the phase (from /status). */
  store?: { commits: number; writes: number };
  /** Gateway phases: peaks seen by polling /status every 100 ms (receipts waiting in the outbox, MTs queued for the connector). */
  peaks?: { outbox: number; connectorQueued: number; connectorInFlight: number; samples: number };
}

export interface GatewayBenchResult {
  config: Omit<GatewayBenchOptions, 'log'> & { clkTck: number; storeSynchronous: string };
  phases: PhaseResult[];
  derived: {
    mtPerSec: { gateway: number; direct: number; ratio: number };
    halfRate: number;
    halfBinds: number;
    /** count ÷ wall time of the whole load process (start-up, bind, all submits, all receipts, unbind). */
    wallMtPerSec: { gateway: number; direct: number; ratio: number };
    respLatencyMs: {
      full: { gateway: Percentiles; direct: Percentiles; added: Percentiles };
      half: { gateway: Percentiles; direct: Percentiles; added: Percentiles };
    };
    dlrLatencyMs?: { gateway: Percentiles; direct: Percentiles; added: Percentiles };
  };
}

function clkTck(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A long-lived child (simulator, gateway): JSON log lines on stdout, /proc readings, bounded stop. */
class LongLived {
  readonly lines: Array<Record<string, unknown>> = [];
  private readonly waiters: Array<(l: Record<string, unknown>) => boolean> = [];
  private stderr = '';
  readonly closed: Promise<number | null>;
  private done = false;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    private readonly tck: number,
  ) {
    let buf = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('{')) continue;
        let obj: Record<string, unknown>;
        try {
          obj = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        // Keep only what we look for (start-up lines, warnings, errors): a run logs a lot.
        if (this.lines.length < 200 || (typeof obj.level === 'number' && obj.level >= 40)) {
          if (this.lines.length < 2000) this.lines.push(obj);
        }
        for (let k = this.waiters.length - 1; k >= 0; k--) if (this.waiters[k]!(obj)) this.waiters.splice(k, 1);
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr = (this.stderr + c).slice(-8192)));
    this.closed = new Promise((resolve) => proc.once('close', (code) => ((this.done = true), resolve(code))));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  waitLine(pred: (l: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const seen = this.lines.find(pred);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`${this.name}: no such log line within ${ms} ms; stderr: ${this.stderr}`)), ms);
      this.waiters.push((l) => {
        if (!pred(l)) return false;
        clearTimeout(timer);
        resolve(l);
        return true;
      });
      void this.closed.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) early; stderr: ${this.stderr}`));
      });
    });
  }

  /** utime + stime in seconds (fields 14 and 15 of /proc/<pid>/stat). */
  cpuSec(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): field n is rest[n - 3].
    return (Number(rest[11]) + Number(rest[12])) / this.tck;
  }

  peakRssMiB(): number {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  }

  /** Resets VmHWM to the current RSS, so the next reading is this phase's peak. */
  resetPeak(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  async stop(ms: number): Promise<void> {
    if (this.done) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), ms);
    await this.closed;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.done) this.proc.kill('SIGKILL');
  }
}

function startLongLived(name: string, args: string[], env: NodeJS.ProcessEnv, tck: number, cwd: string, nodeArgs: string[] = []): LongLived {
  const proc = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new LongLived(name, proc, tck);
}

/** An operator command against the database (bounded). */
function operator(db: string, limitMs: number, ...args: string[]): void {
  execFileSync(process.execPath, [CLI, ...args, '--db', db], { encoding: 'utf8', timeout: limitMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

interface LoadRun {
  summary: LoadSummary;
  exitCode: number | null;
  wallMs: number;
  usage: ProcUsage;
}

/** One `smppgw load` process; resolves with its JSON summary and its own CPU/RSS (bounded). */
function runLoadProcess(args: string[], limitMs: number, name: string): Promise<LoadRun> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, ['--import', USAGE_PRELOAD, CLI, 'load', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-65536)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name}: load tool still running after ${limitMs} ms (killed); stderr: ${err.slice(-2000)}`));
    }, limitMs);
    proc.once('error', (e) => (clearTimeout(timer), reject(e)));
    proc.once('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const jsonLine = out.split('\n').filter((l) => l.startsWith('{')).pop();
      const usageLine = err.split('\n').filter((l) => l.startsWith('BENCH_USAGE ')).pop();
      if (jsonLine === undefined) return reject(new Error(`${name}: load tool printed no summary (exit ${code}); stderr: ${err.slice(-2000)}`));
      const u = usageLine ? (JSON.parse(usageLine.slice('BENCH_USAGE '.length)) as { cpuUserUs: number; cpuSystemUs: number; maxRssKiB: number }) : undefined;
      resolve({
        summary: JSON.parse(jsonLine) as LoadSummary,
        exitCode: code,
        wallMs,
        usage: u ? { cpuSec: (u.cpuUserUs + u.cpuSystemUs) / 1e6, peakRssMiB: u.maxRssKiB / 1024 } : { cpuSec: NaN, peakRssMiB: NaN },
      });
    });
  });
}

/** a − b per percentile, to 0.01 ms (the latency the gateway adds). */
export function minus(a: Percentiles, b: Percentiles): Percentiles {
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(a.p50 - b.p50), p95: r(a.p95 - b.p95), p99: r(a.p99 - b.p99) };
}

export async function runGatewayBench(o: GatewayBenchOptions): Promise<GatewayBenchResult> {
  const tck = clkTck();
  const dir = mkdtempSync(path.join(tmpdir(), 'smppgw-bench-gw-'));
  const db = path.join(dir, 'gw.db');
  let sim: LongLived | undefined;
  let gw: LongLived | undefined;
  const phases: PhaseResult[] = [];
  let synchronous = '?';
  try {
    // ---- simulator --------------------------------------------------------------------------
    sim = startLongLived(
      'simulator',
      ['sim', 'smsc', '--port', '0', '--host', '127.0.0.1', '--dlr-delay', '0', '--window', String(o.simWindow), '--stats-every', '0', '--log-level', 'info'],
      {},
      tck,
      dir,
      o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, '--cpu-prof-name=gateway.cpuprofile'] : [],
    );
    const simPort = await waitSimPort(sim, o.limitMs);
    o.log(`bench-gateway: simulator pid ${sim.pid} on 127.0.0.1:${simPort}`);

    // ---- gateway ----------------------------------------------------------------------------
    operator(db, o.limitMs, 'account', 'add', 'bench', '--password', 'pw', '--window', String(o.accountWindow), '--max-binds', String(Math.max(o.binds, typeof o.halfBinds === 'number' ? o.halfBinds : 64) + 2));
    operator(db, o.limitMs, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(simPort), '--system-id', 'gw', '--password', 'pw', '--window', String(o.connectorWindow));
    operator(db, o.limitMs, 'route', 'add', 'mt', '--connector', 'sim');
    gw = startLongLived('gateway', ['start', '--db', db, '--port', '0', '--http-port', '0'], {
        SMPPGW_SMPP__HOST: '127.0.0.1',
        SMPPGW_HTTP__HOST: '127.0.0.1',
        ...(o.synchronous ? { SMPPGW_STORE__SYNCHRONOUS: o.synchronous } : {}),
      },
      tck,
      dir,
      o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, '--cpu-prof-name=gateway.cpuprofile'] : [],
    );
    const storeLine = await gw.waitLine((l) => l.msg === 'store open', o.limitMs);
    synchronous = String(storeLine.synchronous);
    const ready = await gw.waitLine((l) => l.msg === 'smppgw ready', o.limitMs);
    const gwPort = ready.smpp as number;
    const httpPort = ready.http as number;
    await waitConnectorUp(httpPort, o.limitMs);
    o.log(`bench-gateway: gateway pid ${gw.pid} on 127.0.0.1:${gwPort} (http ${httpPort}), store.synchronous=${synchronous}, connector bound`);

    const common = (count: number, rate: number, binds: number) => [
      '-n', String(count),
      '--window', String(o.window),
      '--binds', String(binds),
      ...(rate > 0 ? ['--rate', String(rate)] : []),
      ...(o.dlr ? ['--dlr'] : []),
      '--timeout-ms', '60000',
      '--response-timeout-ms', '30000',
    ];
    const targets = {
      direct: ['--port', String(simPort), '--system-id', 'bench', '--password', 'pw'],
      gateway: ['--port', String(gwPort), '--system-id', 'bench', '--password', 'pw'],
    } as const;

    const phase = async (name: string, target: 'gateway' | 'direct', count: number, rate: number, keep: boolean, binds = o.binds): Promise<PhaseResult> => {
      const s = sim!;
      const g = gw!;
      s.resetPeak();
      g.resetPeak();
      const simCpu0 = s.cpuSec();
      const gwCpu0 = g.cpuSec();
      const st0 = target === 'gateway' ? await storeCounts(httpPort) : undefined;
      o.log(`bench-gateway: ${name}: ${count} msgs → ${target} on ${binds} binds${rate > 0 ? ` at ${rate}/s` : ''}`);
      const poller = target === 'gateway' ? pollPeaks(httpPort) : undefined;
      const r = await runLoadProcess([...targets[target], ...common(count, rate, binds)], o.limitMs, name).finally(() => poller?.stop());
      const usage: PhaseResult['usage'] = {
        load: r.usage,
        sim: { cpuSec: s.cpuSec() - simCpu0, peakRssMiB: s.peakRssMiB() },
      };
      if (target === 'gateway') usage.gateway = { cpuSec: g.cpuSec() - gwCpu0, peakRssMiB: g.peakRssMiB() };
      const sm = r.summary;
      o.log(
        `bench-gateway: ${name}: ${sm.msgsPerSec} msg/s, acked ${sm.acked}/${sm.requested}, receipts matched ${sm.dlrsMatched}, ` +
          `resp p50/p95/p99 ${sm.latencyMs.p50}/${sm.latencyMs.p95}/${sm.latencyMs.p99} ms, ok=${sm.ok}`,
      );
      if (!sm.ok) o.log(`bench-gateway: ${name}: NOT ok: errors ${JSON.stringify(sm.errors)}, unmatched ${sm.dlrsUnmatched}`);
      const result: PhaseResult = { name, target, count, binds, rate, wallMs: Math.round(r.wallMs), exitCode: r.exitCode, summary: sm, usage };
      if (poller) result.peaks = await poller.result;
      if (st0) {
        const st1 = await storeCounts(httpPort);
        result.store = { commits: st1.commits - st0.commits, writes: st1.writes - st0.writes };
      }
      if (keep) phases.push(result);
      // Let the gateway finish what the phase left behind (outbox commits, receipt bookkeeping).
      await sleep(500);
      return result;
    };

    if (o.warmup > 0) {
      await phase('warm-up direct', 'direct', o.warmup, 0, false);
      await phase('warm-up gateway', 'gateway', o.warmup, 0, false);
    }
    const fullDirect = await phase('full direct', 'direct', o.messages, 0, true);
    const fullGw = await phase('full gateway', 'gateway', o.messages, 0, true);
    const halfRate = Math.max(1, Math.floor(fullGw.summary.msgsPerSec / 2));
    const halfBinds = o.halfBinds === 'auto' ? Math.min(64, Math.max(o.binds, Math.ceil(halfRate / 800))) : o.halfBinds;
    const halfGw = await phase('half gateway', 'gateway', o.halfMessages, halfRate, true, halfBinds);
    const halfDirect = await phase('half direct', 'direct', o.halfMessages, halfRate, true, halfBinds);
    const wallRate = (p: PhaseResult) => Math.round((p.summary.acked / p.wallMs) * 1000);

    const derived: GatewayBenchResult['derived'] = {
      mtPerSec: { gateway: fullGw.summary.msgsPerSec, direct: fullDirect.summary.msgsPerSec, ratio: fullGw.summary.msgsPerSec / fullDirect.summary.msgsPerSec },
      halfRate,
      halfBinds,
      wallMtPerSec: { gateway: wallRate(fullGw), direct: wallRate(fullDirect), ratio: wallRate(fullGw) / wallRate(fullDirect) },
      respLatencyMs: {
        full: { gateway: fullGw.summary.latencyMs, direct: fullDirect.summary.latencyMs, added: minus(fullGw.summary.latencyMs, fullDirect.summary.latencyMs) },
        half: { gateway: halfGw.summary.latencyMs, direct: halfDirect.summary.latencyMs, added: minus(halfGw.summary.latencyMs, halfDirect.summary.latencyMs) },
      },
    };
    if (o.dlr && fullGw.summary.dlrLatencyMs && fullDirect.summary.dlrLatencyMs) {
      derived.dlrLatencyMs = { gateway: fullGw.summary.dlrLatencyMs, direct: fullDirect.summary.dlrLatencyMs, added: minus(fullGw.summary.dlrLatencyMs, fullDirect.summary.dlrLatencyMs) };
    }
    const { log: _log, ...config } = o;
    return { config: { ...config, clkTck: tck, storeSynchronous: synchronous }, phases, derived };
  } finally {
    const stops: Promise<void>[] = [];
    if (gw) stops.push(gw.stop(Math.min(20_000, o.limitMs)).catch(() => gw!.kill()));
    if (sim) stops.push(sim.stop(Math.min(10_000, o.limitMs)).catch(() => sim!.kill()));
    await Promise.allSettled(stops);
    gw?.kill();
    sim?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitSimPort(sim: LongLived, ms: number): Promise<number> {
  const l = await sim.waitLine((x) => x.msg === 'ready' && typeof x.port === 'number', ms);
  return l.port as number;
}

/** Polls /status (one request at a time, every 100 ms) until stopped; resolves with the peaks. */
function pollPeaks(httpPort: number): { stop(): void; result: Promise<NonNullable<PhaseResult['peaks']>> } {
  let stopped = false;
  const peaks = { outbox: 0, connectorQueued: 0, connectorInFlight: 0, samples: 0 };
  const result = (async () => {
    while (!stopped) {
      try {
        const st = (await (await fetch(`http://127.0.0.1:${httpPort}/status`, { signal: AbortSignal.timeout(5_000) })).json()) as {
          outbox?: Record<string, number>;
          connectors?: Record<string, { queued?: number; inFlight?: number }>;
        };
        peaks.samples++;
        peaks.outbox = Math.max(peaks.outbox, Object.values(st.outbox ?? {}).reduce((a, b) => a + b, 0));
        for (const c of Object.values(st.connectors ?? {})) {
          peaks.connectorQueued = Math.max(peaks.connectorQueued, c.queued ?? 0);
          peaks.connectorInFlight = Math.max(peaks.connectorInFlight, c.inFlight ?? 0);
        }
      } catch {
        // a missed sample
      }
      await sleep(100);
    }
    return peaks;
  })();
  return { stop: () => void (stopped = true), result };
}

async function storeCounts(httpPort: number): Promise<{ commits: number; writes: number }> {
  try {
    const st = (await (await fetch(`http://127.0.0.1:${httpPort}/status`, { signal: AbortSignal.timeout(5_000) })).json()) as { commits?: number; writes?: number };
    return { commits: st.commits ?? NaN, writes: st.writes ?? NaN };
  } catch {
    return { commits: NaN, writes: NaN };
  }
}

async function waitConnectorUp(httpPort: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const st = (await (await fetch(`http://127.0.0.1:${httpPort}/status`, { signal: AbortSignal.timeout(5_000) })).json()) as {
        connectors?: Record<string, { up?: boolean }>;
      };
      last = st;
      if (st.connectors?.sim?.up === true) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`connector not bound within ${ms} ms; last status: ${JSON.stringify(last)}`);
}
