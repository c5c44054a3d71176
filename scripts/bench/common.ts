// Shared pieces of the benchmarks: the message every benchmark sends, statistics, the description
// of the machine, and where results go.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The typical MT every benchmark sends (destination in international format, OTP text). */
export const MT = {
  source_addr: 'BRAND',
  destination_addr: '4915112345678',
  registered_delivery: 1,
  data_coding: 0,
} as const;

export const SHORT_TEXT = 'Your code is 123456';
export const SHORT_MESSAGE = Buffer.from(SHORT_TEXT, 'latin1');
/** A full single-part message: 140 octets (160 GSM septets' worth). */
export const LONG_MESSAGE = Buffer.from(`Your code is 123456. ${'x'.repeat(140)}`.slice(0, 140), 'latin1');

export function messageFor(size: 'short' | 'long'): Buffer {
  return size === 'short' ? SHORT_MESSAGE : LONG_MESSAGE;
}

/** dist/scripts/bench/common.js → the repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench-results');

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function summarize(samples: number[]): Summary {
  if (samples.length === 0) return { median: NaN, min: NaN, max: NaN, samples };
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

export interface MachineInfo {
  timestamp: string;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cpuCount: number;
  totalMemMiB: number;
  gitCommit: string | undefined;
  gitDirty: boolean | undefined;
  loadAvgAtStart: number[];
  loadAvgAtEnd?: number[];
  note: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let gitCommit: string | undefined;
  let gitDirty: boolean | undefined;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    gitDirty = execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    // not a git checkout: leave them out
  }
  return {
    timestamp: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
    gitCommit,
    gitDirty,
    loadAvgAtStart: os.loadavg().map(round2),
    note: 'Absolute rates depend on the machine and on whatever else runs on it; compare the ratios, which are measured within one run.',
  };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** 1234567.8 → "1,234,568" */
export function fmtInt(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-';
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×` : '-';
}

/** Left-aligns the first column and right-aligns the others. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Parses `--name value` and `--flag` arguments. */
export function parseArgs(argv: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      out.set(a.slice(2, eq), a.slice(eq + 1));
    } else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
      out.set(a.slice(2), argv[++i]!);
    } else {
      out.set(a.slice(2), true);
    }
  }
  return out;
}

export function intArg(args: Map<string, string | true>, name: string, fallback: number): number {
  const v = args.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer`);
  return n;
}

/** p50 / p95 / p99 / max of xs, rounded to 0.01. */
export function spread(xs: readonly number[]): { p50: number; p95: number; p99: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s.length === 0 ? NaN : round2(s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!));
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s.length === 0 ? NaN : round2(s[s.length - 1]!), n: s.length };
}

/** 2026-11-22T00:14:37.123Z → 20261122-001437Z (file names). */
export function stamp(iso: string): string {
  return iso
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .replace('T', '-');
}
