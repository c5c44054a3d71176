// The gateway as a child process (`smppgw start` on free ports) and what is watched of it: every
// stdout line must be one JSON object (pino) with no raw character that breaks a line (only counts
// and a few samples are kept, however long the run); while the run fuzzes, its RSS is sampled
// (/proc/<pid>/status) and /healthz asked.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI } from '../gateway-process.js';
import { eachLine } from '../lines.js';
import { bump } from './shared.js';
import { emptyLogCheck, type GatewayFuzzSummary, type LogCheck, type RecordAnomaly } from './summary.js';

// ---- stdout ----

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function sample(logs: LogCheck, what: string, line: string): void {
  if (logs.samples.length < 12) logs.samples.push(`${what}: ${JSON.stringify(line.length > 600 ? `${line.slice(0, 600)}…` : line)}`);
}

/** Counts one stdout line into `logs`; returns it parsed when it is a JSON object. */
function checkLogLine(logs: LogCheck, line: string): Record<string, unknown> | undefined {
  logs.lines++;
  logs.bytes += line.length + 1;
  // Raw characters that break a line for some readers, or that a terminal takes as escapes.
  if (/[\u0085\u2028\u2029]/.test(line)) {
    logs.rawLineBreaks++;
    sample(logs, 'raw line break', line);
  }
  if (/[\u007f-\u009f]/.test(line)) {
    if (logs.rawControls++ === 0) sample(logs, 'raw C1/DEL control', line);
  }
  let obj: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    obj = parsed as Record<string, unknown>;
  } catch {
    logs.notJson++;
    sample(logs, 'not JSON', line);
    return undefined;
  }
  const level = LEVELS[obj.level as number] ?? String(obj.level);
  bump(logs.byLevel, level);
  const msg = typeof obj.msg === 'string' ? obj.msg : '(no msg)';
  if (level === 'warn') {
    bump(logs.warnings, msg);
    if (logs.warnings[msg] === 1) logs.firstWarnings[msg] = line.length > 400 ? `${line.slice(0, 400)}…` : line;
  }
  if (level === 'error' || level === 'fatal') {
    bump(logs.errors, msg);
    if (logs.errors[msg] === 1) sample(logs, level, line);
  }
  return obj;
}

// ---- the process ----

export interface GatewayChild {
  proc: ChildProcess;
  pid: number;
  smppPort: number;
  httpPort: number;
  logs: LogCheck;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  alive(): boolean;
  waitLog(pred: (l: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>>;
}

/** Starts `smppgw start` on free ports; checks every stdout line as it comes (nothing is kept but counts and samples). */
export async function startGatewayChild(db: string, env: NodeJS.ProcessEnv): Promise<GatewayChild> {
  const proc = spawn(process.execPath, [CLI, 'start', '--db', db, '--port', '0', '--http-port', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave it behind: a gateway whose stdout reader is gone does not stop on SIGTERM.
  const reap = (): void => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  process.once('exit', reap);
  proc.once('exit', () => process.off('exit', reap));
  const logs: LogCheck = emptyLogCheck();
  let stderr = '';
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  const onLine = (line: string): void => {
    const obj = checkLogLine(logs, line);
    if (obj === undefined) return;
    for (const w of waiters.splice(0)) {
      if (w.pred(obj)) w.resolve(obj);
      else waiters.push(w);
    }
  };
  eachLine(proc.stdout!, onLine, { flushPartial: true });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-16_384)));
  let exitInfo: { code: number | null; signal: string | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('close', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    }),
  );
  const waitLog = (pred: (l: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway: no such log line within ${ms} ms; stderr: ${stderr}`)), ms);
      waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited (${JSON.stringify(e)}) before the log line; stderr: ${stderr}`));
      });
    });
  const ready = await waitLog((l) => l.msg === 'smppgw ready', 20_000);
  return {
    proc,
    pid: proc.pid!,
    smppPort: ready.smpp as number,
    httpPort: ready.http as number,
    logs,
    stderr: () => stderr,
    exited,
    alive: () => exitInfo === undefined && proc.exitCode === null && proc.signalCode === null,
    waitLog,
  };
}

function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function httpGet(port: number, path: string, ms = 3_000): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(ms) });
  return { status: res.status, body: await res.text() };
}

// ---- RSS and /healthz ----

/** Every `sampleMs`: RSS and /healthz. Five failed health checks in a row are an anomaly. */
export class GatewayMonitor {
  /** The largest RSS sampled, in bytes. */
  rssMax = 0;
  private healthFailuresInRow = 0;
  private sampling = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly g: GatewayChild,
    private readonly s: GatewayFuzzSummary,
    private readonly anomaly: RecordAnomaly,
  ) {}

  sampleRss(): number | undefined {
    const rss = rssBytes(this.g.pid);
    if (rss !== undefined) {
      this.s.rss.samples++;
      this.rssMax = Math.max(this.rssMax, rss);
    }
    return rss;
  }

  start(sampleMs: number): void {
    const { g, s } = this;
    this.timer = setInterval(() => {
      // One sample at a time: a slow /healthz must not pile requests up.
      if (this.sampling || !g.alive()) return;
      this.sampling = true;
      this.sampleRss();
      s.health.checks++;
      httpGet(g.httpPort, '/healthz', 5_000)
        .then((r) => {
          if (r.status !== 200) throw new Error(`status ${r.status}`);
          this.healthFailuresInRow = 0;
        })
        .catch((err: Error) => {
          s.health.failures++;
          if (++this.healthFailuresInRow === 5) this.anomaly('health', -1, `/healthz failed 5 times in a row: ${err.message}`);
        })
        .finally(() => (this.sampling = false));
    }, sampleMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
