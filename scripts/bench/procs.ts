// Child processes of the end-to-end benchmarks (gateway, scale modes): long-lived programs of the
// shipped CLI (simulator, gateway) with /proc readings and bounded stops, operator commands, one-shot
// load-tool runs with their own CPU and peak RSS, and the gateway's /status endpoint.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { REPO_ROOT } from './common.js';
import type { LoadSummary } from '../../src/sim/load.js';
import { eachLine } from '../../test/helpers/lines.js';

export const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const USAGE_PRELOAD = pathToFileURL(fileURLToPath(new URL('./gateway-usage.js', import.meta.url))).href;

export interface ProcUsage {
  cpuSec: number;
  peakRssMiB: number;
}

export function clkTck(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A `VmXxx:  N kB` field of /proc/<pid>/status, in MiB (NaN when the process is gone). */
export function procStatusMiB(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** A long-lived child (simulator, gateway): JSON log lines on stdout, /proc readings, bounded stop. */
export class LongLived {
  readonly lines: Array<Record<string, unknown>> = [];
  private readonly waiters: Array<(l: Record<string, unknown>) => boolean> = [];
  private readonly watchers: Array<(l: Record<string, unknown>) => void> = [];
  private stderr = '';
  readonly closed: Promise<number | null>;
  private done = false;
  /** Log lines at warn level or above (counted even when not kept), and their count by message. */
  warnings = 0;
  readonly warningsByMsg: Record<string, number> = {};

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    private readonly tck: number,
  ) {
    eachLine(proc.stdout!, (line) => {
      if (!line.startsWith('{')) return;
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const warn = typeof obj.level === 'number' && obj.level >= 40;
      if (warn) {
        this.warnings++;
        const key = String(obj.msg ?? '?').slice(0, 80);
        if (key in this.warningsByMsg || Object.keys(this.warningsByMsg).length < 50) this.warningsByMsg[key] = (this.warningsByMsg[key] ?? 0) + 1;
      }
      // Keep only what we look for (start-up lines, warnings, errors): a run logs a lot.
      if (this.lines.length < 200 || warn) {
        if (this.lines.length < 2000) this.lines.push(obj);
      }
      for (let k = this.waiters.length - 1; k >= 0; k--) if (this.waiters[k]!(obj)) this.waiters.splice(k, 1);
      for (const w of this.watchers) w(obj);
    });
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr = (this.stderr + c).slice(-8192)));
    this.closed = new Promise((resolve) =>
      proc.once('close', (code) => {
        this.done = true;
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get exited(): boolean {
    return this.done;
  }

  /** Calls `fn` with every JSON log line from now on. */
  watch(fn: (l: Record<string, unknown>) => void): void {
    this.watchers.push(fn);
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
    return procStatusMiB(this.pid, 'VmHWM');
  }

  rssMiB(): number {
    return procStatusMiB(this.pid, 'VmRSS');
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

export function startLongLived(name: string, args: string[], env: NodeJS.ProcessEnv, tck: number, cwd: string, nodeArgs: string[] = []): LongLived {
  const proc = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new LongLived(name, proc, tck);
}

/** An operator command against the database (bounded). */
export function operator(db: string, limitMs: number, ...args: string[]): void {
  execFileSync(process.execPath, [CLI, ...args, '--db', db], { encoding: 'utf8', timeout: limitMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface LoadRun {
  summary: LoadSummary;
  exitCode: number | null;
  wallMs: number;
  usage: ProcUsage;
}

/**
 * One `smppgw load` process; resolves with its JSON summary and its own CPU/RSS (bounded).
 * `nodeArgs` go before the CLI (e.g. another `--import` preload), `env` is added to ours.
 */
export function runLoadProcess(args: string[], limitMs: number, name: string, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<LoadRun> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, ['--import', USAGE_PRELOAD, ...nodeArgs, CLI, 'load', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-65536)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name}: load tool still running after ${limitMs} ms (killed); stderr: ${err.slice(-2000)}`));
    }, limitMs);
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.once('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const jsonLine = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      const usageLine = err
        .split('\n')
        .filter((l) => l.startsWith('BENCH_USAGE '))
        .pop();
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

/** What the benchmarks read of the gateway's /status. */
export interface GatewayStatus {
  ready?: boolean;
  binds?: Record<string, string[]>;
  connectors?: Record<string, { up?: boolean; queued?: number; inFlight?: number }>;
  outbox?: Record<string, number>;
  commits?: number;
  writes?: number;
  /** WAL flushes (fsync off the event loop), when the gateway reports them. */
  syncs?: number;
}

export async function fetchStatus(httpPort: number, timeoutMs = 5_000): Promise<GatewayStatus> {
  return (await (await fetch(`http://127.0.0.1:${httpPort}/status`, { signal: AbortSignal.timeout(timeoutMs) })).json()) as GatewayStatus;
}

export async function waitConnectorUp(httpPort: number, ms: number, connector = 'sim'): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const st = await fetchStatus(httpPort);
      last = st;
      if (st.connectors?.[connector]?.up === true) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`connector not bound within ${ms} ms; last status: ${JSON.stringify(last)}`);
}

/** The simulator's port, from its `ready` log line. */
export async function waitSimPort(sim: LongLived, ms: number): Promise<number> {
  const l = await sim.waitLine((x) => x.msg === 'ready' && typeof x.port === 'number', ms);
  return l.port as number;
}
