// End-to-end gateway benchmark: `smppgw load` → gateway → simulator against `smppgw load` → the same
// simulator, every one a separate process on 127.0.0.1 (see scripts/bench/gateway.ts).
//
//   node dist/scripts/bench-gateway.js [--messages N (20000)] [--binds B (2)] [--window W (50)]
//        [--dlr | --no-dlr] [--json] [--warmup N (2000)] [--half-messages N (messages/2)]
//        [--account-window N (max(200, W))] [--connector-window N (max(200, W×B))]
//        [--synchronous full|normal (default: the gateway's config default, full)]
//        [--cpu-prof: V8 profile of the gateway under bench-results/profiles/]
//        [--half-binds N|auto (auto)] [--sim-window N (50)] [--limit-ms N (120000)] [--out FILE] [--quiet]
//
// Prints one table (or the JSON with --json) and writes the JSON to bench-results/gateway-<timestamp>.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RESULTS_DIR, fmtInt, fmtRatio, intArg, machineInfo, parseArgs, round2, table, type MachineInfo } from './bench/common.js';
import { formatSummary, summarizeProfiles } from './bench/profile-summary.js';
import { minus, runGatewayBench, type GatewayBenchResult, type Percentiles, type PhaseResult } from './bench/gateway.js';

interface Report {
  meta: MachineInfo;
  gateway: GatewayBenchResult;
}

function stamp(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
}

const ms = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1)) : '-');
const pct = (p: Percentiles | undefined) => (p ? `${ms(p.p50)} / ${ms(p.p95)} / ${ms(p.p99)}` : '-');
const mib = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(0) : '-');
const sec = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '-');

export function formatGatewayReport(r: Report): string {
  const m = r.meta;
  const g = r.gateway;
  const c = g.config;
  const d = g.derived;
  const ph = (name: string) => g.phases.find((p) => p.name === name)!;
  const fg = ph('full gateway');
  const fd = ph('full direct');
  const out: string[] = [];
  out.push(`smppgw gateway benchmark — ${m.timestamp}`);
  out.push(`node ${m.node}, ${m.platform} ${m.arch}, CPU: ${m.cpuModel} × ${m.cpuCount}, git ${m.gitCommit?.slice(0, 10) ?? '?'}${m.gitDirty ? ' (dirty tree)' : ''}`);
  out.push(`load average at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}`);
  out.push(
    `${fmtInt(c.messages)} msgs, ${c.binds} binds × window ${c.window}, receipts ${c.dlr ? 'on' : 'off'}; warm-up ${fmtInt(c.warmup)} msgs per target; ` +
      `half load: ${fmtInt(c.halfMessages)} msgs at --rate ${fmtInt(d.halfRate)} on ${d.halfBinds} binds; store.synchronous=${c.storeSynchronous}; account window ${c.accountWindow}, connector window ${c.connectorWindow} (1 trx bind)`,
  );
  out.push('One run on a shared 2-core machine: all processes compete for the same cores. Compare gateway and direct within the run.');
  out.push('');
  const hg = ph('half gateway');
  const hd = ph('half direct');
  const rows = [['', 'gateway', 'direct', 'gateway/direct, added']];
  rows.push([`MT/s${c.dlr ? ' with receipts' : ''} (full load; first submit → last resp)`, fmtInt(d.mtPerSec.gateway), fmtInt(d.mtPerSec.direct), fmtRatio(d.mtPerSec.ratio)]);
  rows.push(['msgs ÷ load-process wall time (start-up … last receipt … unbind)', fmtInt(d.wallMtPerSec.gateway), fmtInt(d.wallMtPerSec.direct), fmtRatio(d.wallMtPerSec.ratio)]);
  rows.push(['submit→resp ms p50 / p95 / p99, full load', pct(d.respLatencyMs.full.gateway), pct(d.respLatencyMs.full.direct), pct(d.respLatencyMs.full.added)]);
  rows.push([`submit→resp ms p50 / p95 / p99, half load`, pct(d.respLatencyMs.half.gateway), pct(d.respLatencyMs.half.direct), pct(d.respLatencyMs.half.added)]);
  rows.push([`MT/s achieved in the half-load run (--rate ${fmtInt(d.halfRate)})`, fmtInt(hg.summary.msgsPerSec), fmtInt(hd.summary.msgsPerSec), fmtRatio(hg.summary.msgsPerSec / hd.summary.msgsPerSec)]);
  if (d.dlrLatencyMs) rows.push(['submit→DLR ms p50 / p95 / p99, full load', pct(d.dlrLatencyMs.gateway), pct(d.dlrLatencyMs.direct), pct(d.dlrLatencyMs.added)]);
  if (d.dlrLatencyMs) rows.push(['submit→DLR ms p50 / p95 / p99, half load', pct(hg.summary.dlrLatencyMs), pct(hd.summary.dlrLatencyMs), pct(hg.summary.dlrLatencyMs && hd.summary.dlrLatencyMs ? minus(hg.summary.dlrLatencyMs, hd.summary.dlrLatencyMs) : undefined)]);
  const matched = (p: PhaseResult) => `${fmtInt(p.summary.dlrsMatched)}/${fmtInt(p.summary.acked)}${p.summary.dlrsUnmatched ? ` (+${p.summary.dlrsUnmatched} unmatched)` : ''}`;
  const acked = (p: PhaseResult) => {
    const errs = Object.entries(p.summary.errors).map(([k, v]) => `${k}:${v}`).join(',');
    return `${fmtInt(p.summary.acked)}/${fmtInt(p.summary.requested)}${errs ? ` err ${errs}` : ''}`;
  };
  rows.push(['acked / requested (full)', acked(fg), acked(fd), '']);
  if (c.dlr) rows.push(['receipts matched / acked (full)', matched(fg), matched(fd), '']);
  if (c.dlr) rows.push(['receipts matched / acked (half)', matched(hg), matched(hd), '']);
  out.push(table(rows));
  out.push('');
  out.push('Per process, per phase — CPU seconds (utime+stime) and peak RSS MiB (VmHWM reset at phase start; load tool: its whole life)');
  const urows = [['phase', 'msgs', 'wall s', 'commits (writes/commit)', 'peak outbox / conn. queued / in flight', 'load CPU s', 'sim CPU s', 'gateway CPU s', 'CPU µs/msg total', 'load RSS', 'sim RSS', 'gateway RSS']];
  for (const p of g.phases) {
    const u = p.usage;
    const total = u.load.cpuSec + u.sim.cpuSec + (u.gateway?.cpuSec ?? 0);
    urows.push([
      p.name + (p.rate > 0 ? ` @${fmtInt(p.rate)}/s ×${p.binds} binds (got ${fmtInt(p.summary.msgsPerSec)})` : ''),
      fmtInt(p.count),
      (p.wallMs / 1000).toFixed(1),
      p.store ? `${fmtInt(p.store.commits)} (${(p.store.writes / p.store.commits).toFixed(1)})` : '-',
      p.peaks ? `${fmtInt(p.peaks.outbox)} / ${fmtInt(p.peaks.connectorQueued)} / ${fmtInt(p.peaks.connectorInFlight)}` : '-',
      sec(u.load.cpuSec),
      sec(u.sim.cpuSec),
      sec(u.gateway?.cpuSec),
      fmtInt((total / p.count) * 1e6),
      mib(u.load.peakRssMiB),
      mib(u.sim.peakRssMiB),
      mib(u.gateway?.peakRssMiB),
    ]);
  }
  out.push(table(urows));
  const gwUs = fg.usage.gateway ? (fg.usage.gateway.cpuSec / fg.count) * 1e6 : NaN;
  out.push('');
  out.push(`gateway CPU per MT (full load, incl. its receipt): ${fmtInt(gwUs)} µs, i.e. one core saturates at ~${fmtInt(1e6 / gwUs)} MT/s for the gateway process alone.`);
  return out.join('\n');
}

async function main(argv = process.argv.slice(2)): Promise<void> {
  const args = parseArgs(argv);
  const asJson = args.has('json');
  const quiet = args.has('quiet');
  const log = quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const messages = intArg(args, 'messages', 20_000);
  const binds = intArg(args, 'binds', 2);
  const window = intArg(args, 'window', 50);
  const dlr = !args.has('no-dlr');
  const meta = machineInfo();
  const profDir = path.join(RESULTS_DIR, 'profiles', `gateway-${stamp(meta.timestamp)}`);
  if (args.has('cpu-prof')) mkdirSync(profDir, { recursive: true });
  log(`bench-gateway: node ${meta.node}; ${meta.cpuModel} × ${meta.cpuCount}; load ${meta.loadAvgAtStart.join('/')}`);
  const result = await runGatewayBench({
    messages,
    binds,
    window,
    dlr,
    warmup: args.get('warmup') === '0' ? 0 : intArg(args, 'warmup', 2_000),
    halfMessages: intArg(args, 'half-messages', Math.max(1, Math.floor(messages / 2))),
    halfBinds: args.get('half-binds') === undefined || args.get('half-binds') === 'auto' ? 'auto' : intArg(args, 'half-binds', binds),
    accountWindow: intArg(args, 'account-window', Math.max(200, window)),
    connectorWindow: intArg(args, 'connector-window', Math.max(200, window * binds)),
    simWindow: intArg(args, 'sim-window', 50),
    limitMs: intArg(args, 'limit-ms', 120_000),
    ...(args.get('synchronous') === 'normal' || args.get('synchronous') === 'full' ? { synchronous: args.get('synchronous') as 'full' | 'normal' } : {}),
    ...(args.has('cpu-prof') ? { cpuProfDir: profDir } : {}),
    log,
  });
  meta.loadAvgAtEnd = os.loadavg().map(round2);
  const report: Report = { meta, gateway: result };
  const file = typeof args.get('out') === 'string' ? path.resolve(args.get('out') as string) : path.join(RESULTS_DIR, `gateway-${stamp(meta.timestamp)}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  const json = JSON.stringify(report, null, 2);
  writeFileSync(file, `${json}\n`);
  if (asJson) process.stdout.write(`${json}\n`);
  else process.stdout.write(`${formatGatewayReport(report)}\n`);
  log(`bench-gateway: JSON written to ${path.relative(process.cwd(), file) || file}`);
  if (args.has('cpu-prof')) {
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f));
    const text = files.length > 0 ? formatSummary('gateway process (whole run: warm-up, full and half load)', summarizeProfiles(files), 30) : 'no profile written';
    writeFileSync(path.join(profDir, 'summary.txt'), `${text}\n`);
    process.stderr.write(`CPU profile of the gateway in ${profDir} (profiling slows it: ignore this run's rates)\n${text}\n`);
  }
}

await main().catch((err: unknown) => {
  console.error(`bench-gateway failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
