// The gateway benchmark's report (tables) and its command-line options, shared by
// scripts/bench-gateway.ts (gateway only) and the whole suite (scripts/bench/cli.ts).
import { fmtInt, fmtRatio, intArg, table, type MachineInfo } from './common.js';
import { minus, type GatewayBenchOptions, type GatewayBenchResult, type Percentiles, type PhaseResult } from './gateway.js';

const ms = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1)) : '-');
const pct = (p: Percentiles | undefined) => (p ? `${ms(p.p50)} / ${ms(p.p95)} / ${ms(p.p99)}` : '-');
const mib = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(0) : '-');
const sec = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '-');

export interface GatewayReport {
  meta: MachineInfo;
  gateway: GatewayBenchResult;
}

/** The gateway benchmark's tables (with a header naming the machine unless `header` is false). */
export function formatGatewayReport(r: GatewayReport, header = true): string {
  const m = r.meta;
  const g = r.gateway;
  const c = g.config;
  const d = g.derived;
  const ph = (name: string) => g.phases.find((p) => p.name === name)!;
  const fg = ph('full gateway');
  const fd = ph('full direct');
  const out: string[] = [];
  if (header) {
    out.push(`smppgw gateway benchmark — ${m.timestamp}`);
    out.push(
      `node ${m.node}, ${m.platform} ${m.arch}, CPU: ${m.cpuModel} × ${m.cpuCount}, git ${m.gitCommit?.slice(0, 10) ?? '?'}${m.gitDirty ? ' (dirty tree)' : ''}`,
    );
    out.push(`load average at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}`);
  }
  out.push(
    `${fmtInt(c.messages)} msgs, ${c.binds} binds × window ${c.window}, receipts ${c.dlr ? 'on' : 'off'}, TLS ${c.tls ? 'on (every SMPP hop)' : 'off'}; warm-up ${fmtInt(c.warmup)} msgs per target; ` +
      `half load: ${fmtInt(c.halfMessages)} msgs at --rate ${fmtInt(d.halfRate)} on ${d.halfBinds} binds; store.synchronous=${c.storeSynchronous}; account window ${c.accountWindow}, connector window ${c.connectorWindow} (1 trx bind)`,
  );
  out.push('One run on a shared 2-core machine: all processes compete for the same cores. Compare gateway and direct within the run.');
  out.push('');
  const hg = ph('half gateway');
  const hd = ph('half direct');
  const rows = [['', 'gateway', 'direct', 'gateway/direct, added']];
  rows.push([
    `MT/s${c.dlr ? ' with receipts' : ''} (full load; first submit → last resp)`,
    fmtInt(d.mtPerSec.gateway),
    fmtInt(d.mtPerSec.direct),
    fmtRatio(d.mtPerSec.ratio),
  ]);
  rows.push([
    'msgs ÷ load-process wall time (start-up … last receipt … unbind)',
    fmtInt(d.wallMtPerSec.gateway),
    fmtInt(d.wallMtPerSec.direct),
    fmtRatio(d.wallMtPerSec.ratio),
  ]);
  rows.push([
    'submit→resp ms p50 / p95 / p99, full load',
    pct(d.respLatencyMs.full.gateway),
    pct(d.respLatencyMs.full.direct),
    pct(d.respLatencyMs.full.added),
  ]);
  rows.push([
    `submit→resp ms p50 / p95 / p99, half load`,
    pct(d.respLatencyMs.half.gateway),
    pct(d.respLatencyMs.half.direct),
    pct(d.respLatencyMs.half.added),
  ]);
  rows.push([
    `MT/s achieved in the half-load run (--rate ${fmtInt(d.halfRate)})`,
    fmtInt(hg.summary.msgsPerSec),
    fmtInt(hd.summary.msgsPerSec),
    fmtRatio(hg.summary.msgsPerSec / hd.summary.msgsPerSec),
  ]);
  if (d.dlrLatencyMs)
    rows.push(['submit→DLR ms p50 / p95 / p99, full load', pct(d.dlrLatencyMs.gateway), pct(d.dlrLatencyMs.direct), pct(d.dlrLatencyMs.added)]);
  if (d.dlrLatencyMs)
    rows.push([
      'submit→DLR ms p50 / p95 / p99, half load',
      pct(hg.summary.dlrLatencyMs),
      pct(hd.summary.dlrLatencyMs),
      pct(hg.summary.dlrLatencyMs && hd.summary.dlrLatencyMs ? minus(hg.summary.dlrLatencyMs, hd.summary.dlrLatencyMs) : undefined),
    ]);
  const matched = (p: PhaseResult) =>
    `${fmtInt(p.summary.dlrsMatched)}/${fmtInt(p.summary.acked)}${p.summary.dlrsUnmatched ? ` (+${p.summary.dlrsUnmatched} unmatched)` : ''}`;
  const acked = (p: PhaseResult) => {
    const errs = Object.entries(p.summary.errors)
      .map(([k, v]) => `${k}:${v}`)
      .join(',');
    return `${fmtInt(p.summary.acked)}/${fmtInt(p.summary.requested)}${errs ? ` err ${errs}` : ''}`;
  };
  rows.push(['acked / requested (full)', acked(fg), acked(fd), '']);
  if (c.dlr) rows.push(['receipts matched / acked (full)', matched(fg), matched(fd), '']);
  if (c.dlr) rows.push(['receipts matched / acked (half)', matched(hg), matched(hd), '']);
  out.push(table(rows));
  out.push('');
  out.push('Per process, per phase — CPU seconds (utime+stime) and peak RSS MiB (VmHWM reset at phase start; load tool: its whole life)');
  const urows = [
    [
      'phase',
      'msgs',
      'wall s',
      'commits (writes/commit) WAL syncs',
      'peak outbox / conn. queued / in flight',
      'load CPU s',
      'sim CPU s',
      'gateway CPU s',
      'CPU µs/msg total',
      'load RSS',
      'sim RSS',
      'gateway RSS',
    ],
  ];
  for (const p of g.phases) {
    const u = p.usage;
    const total = u.load.cpuSec + u.sim.cpuSec + (u.gateway?.cpuSec ?? 0);
    urows.push([
      p.name + (p.rate > 0 ? ` @${fmtInt(p.rate)}/s ×${p.binds} binds (got ${fmtInt(p.summary.msgsPerSec)})` : ''),
      fmtInt(p.count),
      (p.wallMs / 1000).toFixed(1),
      p.store
        ? `${fmtInt(p.store.commits)} (${(p.store.writes / p.store.commits).toFixed(1)})${p.store.syncs !== undefined ? ` ${fmtInt(p.store.syncs)}` : ''}`
        : '-',
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
  out.push(
    `gateway CPU per MT (full load, incl. its receipt): ${fmtInt(gwUs)} µs, i.e. one core saturates at ~${fmtInt(1e6 / gwUs)} MT/s for the gateway process alone.`,
  );
  return out.join('\n');
}

/**
 * GatewayBenchOptions from command-line arguments. `p` prefixes the names of the options that the
 * whole suite shares with other parts (`gw-` there: --gw-messages, --gw-binds, --gw-window,
 * --gw-warmup, --gw-limit-ms); the others keep their names.
 */
export function gatewayOptionsFromArgs(
  args: Map<string, string | true>,
  log: (line: string) => void,
  p = '',
  quick = false,
): Omit<GatewayBenchOptions, 'cpuProfDir'> {
  const messages = intArg(args, `${p}messages`, quick ? 2_000 : 20_000);
  const binds = intArg(args, `${p}binds`, 2);
  const window = intArg(args, `${p}window`, 50);
  const sync = args.get('synchronous');
  if (sync !== undefined && sync !== 'full' && sync !== 'normal') throw new Error('--synchronous takes full or normal');
  const halfBinds = args.get('half-binds');
  return {
    messages,
    binds,
    window,
    dlr: !args.has('no-dlr'),
    tls: args.has('tls'),
    warmup: args.get(`${p}warmup`) === '0' ? 0 : intArg(args, `${p}warmup`, quick ? 500 : 2_000),
    halfMessages: intArg(args, 'half-messages', Math.max(1, Math.floor(messages / 2))),
    halfBinds: halfBinds === undefined || halfBinds === 'auto' ? 'auto' : intArg(args, 'half-binds', binds),
    accountWindow: intArg(args, 'account-window', Math.max(200, window)),
    connectorWindow: intArg(args, 'connector-window', Math.max(200, window * binds)),
    simWindow: intArg(args, 'sim-window', 50),
    limitMs: intArg(args, `${p}limit-ms`, 120_000),
    ...(sync === 'full' || sync === 'normal' ? { synchronous: sync } : {}),
    log,
  };
}
