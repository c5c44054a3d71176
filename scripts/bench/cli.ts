// The benchmark command line: runs the codec, loopback and/or gateway benchmarks, prints one table,
// writes the same figures as JSON under bench-results/ (and prints the JSON instead of the table
// with --json).
//
// Options:
//   --all / --only codec|loopback|gateway[,…]   which parts to run (default: what the entry point names)
//   --json                 print the JSON on stdout instead of the table (progress stays on stderr)
//   --out FILE             where to write the JSON (default bench-results/bench-<timestamp>.json)
//   --quiet                no progress lines
//   --quick                small counts and one round: checks that everything runs, nothing more
//   codec:     --rounds N (7)  --codec-warmup N (50000)  --count-ours N (400000)  --count-smpp N (20000)
//   loopback:  --loopback-rounds N (5)  --window N (100)  --count-1 N (50000)  --count-4 N (100000)
//              --warmup N (10000)  --limit-ms N (60000)  --message short|long (short)
//              --skip-smpp  --variants label=DIST[,label=DIST…]  race other builds of ours (a copy
//                         of dist/ with a src change, same layout) against ours in the same rounds
//              --cpu-prof [ours|smpp|all]  write node --cpu-prof profiles of those processes (default
//                         ours) under bench-results/profiles/<timestamp>/ and print their summary;
//                         profiling slows the profiled side, so do not quote that run's rates
//   gateway:   --gw-messages N (20000)  --gw-binds B (2)  --gw-window W (50)  --gw-warmup N (2000)
//              --gw-limit-ms N (120000)  --no-dlr  --tls  --synchronous full|normal  and the other
//              options of scripts/bench-gateway.ts under their own names (--half-messages, …)
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CODEC_OPTIONS, runCodecBench, type CodecResult } from './codec.js';
import { RESULTS_DIR, fmtInt, fmtRatio, intArg, machineInfo, parseArgs, round2, stamp, table, type MachineInfo } from './common.js';
import { DEFAULT_LOOPBACK_OPTIONS, runLoopbackBench, type Impl, type LoopbackOptions, type LoopbackResult } from './loopback.js';
import { runGatewayBench, type GatewayBenchResult } from './gateway.js';
import { formatGatewayReport, gatewayOptionsFromArgs } from './gateway-report.js';
import { formatSummary, summarizeProfiles } from './profile-summary.js';

export type Part = 'codec' | 'loopback' | 'gateway';

export const ALL_PARTS: readonly Part[] = ['codec', 'loopback', 'gateway'];

export const TARGETS = { codec: 10, loopback: 2 } as const;

export interface BenchReport {
  meta: MachineInfo;
  targets: typeof TARGETS;
  codec?: CodecResult;
  loopback?: LoopbackResult;
  /** End to end: load tool → gateway → simulator against load tool → simulator (scripts/bench/gateway.ts). */
  gateway?: GatewayBenchResult;
}

function range(xs: number[]): string {
  if (xs.length === 0) return '-';
  return `${fmtRatio(Math.min(...xs))}–${fmtRatio(Math.max(...xs))}`;
}

function fmtCpu(c: { client: number; server: number }): string {
  return Number.isFinite(c.client) ? `${(c.client + c.server).toFixed(1)} (${c.client.toFixed(1)}+${c.server.toFixed(1)})` : '-';
}

export function formatReport(r: BenchReport): string {
  const m = r.meta;
  const out: string[] = [];
  out.push(`smppgw benchmarks — ${m.timestamp}`);
  out.push(
    `node ${m.node} (V8 ${m.v8}), ${m.platform} ${m.arch}, CPU: ${m.cpuModel} × ${m.cpuCount}, git ${m.gitCommit?.slice(0, 10) ?? '?'}${m.gitDirty ? ' (dirty tree)' : ''}`,
  );
  out.push(`load average (1/5/15 min) at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}`);
  out.push('Shared machine: others may be using the CPU. Compare the ratios (both sides measured in this run), not absolute rates.');
  if (r.codec) {
    const c = r.codec;
    out.push('');
    out.push(
      `submit_sm codec — ops/s, median of ${c.config.rounds} rounds (timed loops of ${fmtInt(c.config.counts.ours)} ops ours, ${fmtInt(c.config.counts.smpp)} smpp; warm-up ${fmtInt(c.config.warmup)})`,
    );
    const rows = [['case', 'ours', 'smpp', 'ours/smpp', 'per-round ratios']];
    for (const k of c.cases) {
      rows.push([
        `${k.op} submit_sm, ${k.messageBytes}-byte short_message (${k.pduBytes}-byte PDU)`,
        fmtInt(k.ours.median),
        fmtInt(k.smpp.median),
        fmtRatio(k.ratio),
        range(k.roundRatios),
      ]);
    }
    out.push(table(rows));
  }
  if (r.loopback) {
    const l = r.loopback;
    out.push('');
    out.push(
      `loopback submit_sm → submit_sm_resp over 127.0.0.1 — msgs/s, median of ${l.config.rounds} rounds; ` +
        `${l.config.window} in flight per bind; ${l.config.messageBytes}-byte short_message; warm-up ${fmtInt(l.config.warmup)} msgs per run`,
    );
    const rows = [['case', 'ours', 'smpp', 'ours/smpp', 'per-round ratios', 'CPU µs/msg ours (cli+srv)', 'smpp (cli+srv)', 'CPU/msg smpp/ours']];
    for (const s of l.scenarios) {
      const co = s.cpuUsPerMsg.ours;
      const ct = s.cpuUsPerMsg.smpp;
      rows.push([
        `${s.binds} bind${s.binds > 1 ? 's' : ''}, ${fmtInt(s.count)} msgs`,
        fmtInt(s.ours.median),
        fmtInt(s.smpp.median),
        fmtRatio(s.ratio),
        range(s.roundRatios),
        fmtCpu(co),
        fmtCpu(ct),
        fmtRatio((ct.client + ct.server) / (co.client + co.server)),
      ]);
    }
    out.push(table(rows));
    const labels = Object.keys(l.scenarios[0]?.variants ?? {});
    if (labels.length > 0) {
      out.push('');
      out.push('A/B: other builds of ours (same run, same rounds) — msgs/s, variant/ours');
      const vrows = [['case', 'ours', ...labels.flatMap((v) => [v, `${v}/ours`, 'per-round', 'CPU µs/msg (cli+srv)'])]];
      for (const s of l.scenarios) {
        const row = [`${s.binds} bind${s.binds > 1 ? 's' : ''}, ${fmtInt(s.count)} msgs`, fmtInt(s.ours.median)];
        for (const v of labels) {
          const x = s.variants![v]!;
          row.push(fmtInt(x.rate.median), fmtRatio(x.ratioVsOurs), range(x.roundRatiosVsOurs), fmtCpu(x.cpuUsPerMsg));
        }
        vrows.push(row);
      }
      out.push(table(vrows));
    }
  }
  if (r.gateway) {
    out.push('');
    out.push(
      'gateway end to end: `smppgw load` → gateway → `smppgw sim smsc` against `smppgw load` → the same simulator (direct), separate processes on 127.0.0.1',
    );
    out.push(formatGatewayReport({ meta: r.meta, gateway: r.gateway }, false));
  }
  out.push('');
  const verdicts: string[] = [];
  if (r.codec) {
    const worst = Math.min(...r.codec.cases.map((k) => k.ratio));
    verdicts.push(`codec ≥ ${TARGETS.codec}×: ${worst >= TARGETS.codec ? 'met' : 'MISSED'} (lowest ${fmtRatio(worst)})`);
  }
  if (r.loopback) {
    const worst = Math.min(...r.loopback.scenarios.map((k) => k.ratio));
    if (Number.isFinite(worst)) verdicts.push(`loopback ≥ ${TARGETS.loopback}×: ${worst >= TARGETS.loopback ? 'met' : 'MISSED'} (lowest ${fmtRatio(worst)})`);
  }
  if (verdicts.length > 0) out.push(`Targets: ${verdicts.join('; ')}`);
  return out.join('\n');
}

export async function runCli(defaultParts: Part[], argv = process.argv.slice(2)): Promise<void> {
  const args = parseArgs(argv);
  const quick = args.has('quick');
  const quiet = args.has('quiet');
  const asJson = args.has('json');
  const log = quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  let parts = defaultParts;
  if (args.has('all')) parts = [...ALL_PARTS];
  const only = args.get('only');
  if (only !== undefined) {
    const names = typeof only === 'string' ? only.split(',') : [];
    if (names.length === 0 || names.some((n) => !ALL_PARTS.includes(n as Part))) throw new Error(`--only takes ${ALL_PARTS.join(', ')} (comma-separated)`);
    parts = ALL_PARTS.filter((p) => names.includes(p));
  }

  const meta = machineInfo();
  const report: BenchReport = { meta, targets: TARGETS };
  log(`bench: ${parts.join(' + ')}; node ${meta.node}; ${meta.cpuModel} × ${meta.cpuCount}; load ${meta.loadAvgAtStart.join('/')}`);

  if (parts.includes('codec')) {
    report.codec = runCodecBench({
      rounds: intArg(args, 'rounds', quick ? 1 : DEFAULT_CODEC_OPTIONS.rounds),
      warmup: intArg(args, 'codec-warmup', quick ? 5_000 : DEFAULT_CODEC_OPTIONS.warmup),
      counts: {
        ours: intArg(args, 'count-ours', quick ? 20_000 : DEFAULT_CODEC_OPTIONS.counts.ours),
        smpp: intArg(args, 'count-smpp', quick ? 2_000 : DEFAULT_CODEC_OPTIONS.counts.smpp),
      },
      log,
    });
  }

  let profDir: string | undefined;
  let profImpls: Impl[] = [];
  if (parts.includes('loopback')) {
    const prof = args.get('cpu-prof');
    if (prof !== undefined) {
      profImpls = prof === true || prof === 'ours' ? ['ours'] : prof === 'smpp' ? ['smpp'] : prof === 'all' ? ['ours', 'smpp'] : [];
      if (profImpls.length === 0) throw new Error('--cpu-prof takes ours, smpp or all');
      profDir = path.join(RESULTS_DIR, 'profiles', stamp(meta.timestamp));
      mkdirSync(profDir, { recursive: true });
    }
    const message = args.get('message') ?? 'short';
    if (message !== 'short' && message !== 'long') throw new Error('--message takes short or long');
    const d = DEFAULT_LOOPBACK_OPTIONS;
    const options: LoopbackOptions = {
      scenarios: [
        { binds: 1, count: intArg(args, 'count-1', quick ? 5_000 : d.scenarios[0]!.count) },
        { binds: 4, count: intArg(args, 'count-4', quick ? 10_000 : d.scenarios[1]!.count) },
      ],
      window: intArg(args, 'window', d.window),
      warmup: intArg(args, 'warmup', quick ? 1_000 : d.warmup),
      rounds: intArg(args, 'loopback-rounds', quick ? 1 : d.rounds),
      message,
      limitMs: intArg(args, 'limit-ms', d.limitMs),
      log,
    };
    if (profDir) options.cpuProf = { dir: profDir, impls: profImpls };
    if (args.has('skip-smpp')) options.skipSmpp = true;
    const variants = args.get('variants');
    if (typeof variants === 'string') {
      options.variants = variants.split(',').map((v) => {
        const eq = v.indexOf('=');
        if (eq <= 0) throw new Error('--variants takes label=DIST_DIR[,label=DIST_DIR…]');
        return { label: v.slice(0, eq), dist: path.resolve(v.slice(eq + 1)) };
      });
    }
    report.loopback = await runLoopbackBench(options);
  }

  if (parts.includes('gateway')) {
    report.gateway = await runGatewayBench(gatewayOptionsFromArgs(args, log, 'gw-', quick));
  }

  meta.loadAvgAtEnd = os.loadavg().map(round2);
  const file = typeof args.get('out') === 'string' ? path.resolve(args.get('out') as string) : path.join(RESULTS_DIR, `bench-${stamp(meta.timestamp)}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  const json = JSON.stringify(report, null, 2);
  writeFileSync(file, `${json}\n`);
  if (asJson) process.stdout.write(`${json}\n`);
  else process.stdout.write(`${formatReport(report)}\n`);
  log(`bench: JSON written to ${path.relative(process.cwd(), file) || file}`);

  if (profDir) {
    const lines: string[] = [`CPU profiles in ${profDir} (the profiled processes ran slower: ignore this run's rates)`];
    const names = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    for (const impl of profImpls) {
      for (const role of ['server', 'client']) {
        for (const binds of [1, 4]) {
          const files = names.filter((f) => f.startsWith(`${impl}-${role}-${binds}bind-`)).map((f) => path.join(profDir!, f));
          if (files.length > 0) lines.push('', formatSummary(`${impl} ${role}, ${binds} bind${binds > 1 ? 's' : ''}`, summarizeProfiles(files), 25));
        }
      }
    }
    writeFileSync(path.join(profDir, 'summary.txt'), `${lines.join('\n')}\n`);
    (asJson ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
  }
}
