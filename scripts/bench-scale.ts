// Scale checks of the gateway, one mode per run (see docs/benchmarks-gateway.md, "Scale checks"):
//
//   node dist/scripts/bench-scale.js --mode binds  [--binds N (1000)] [--concurrency N (all)] [--per-bind N (1)] [--tls]
//        [--response-timeout-ms N (120000)] [--settle-ms N (3000)]
//   node dist/scripts/bench-scale.js --mode dlrmap [--rows N (10000000)] [--small-rows N (10000)] [--ops N (20000)]
//        [--rounds N (5)] [--big history,pending (both)] [--dir DIR (default: a temp dir)]
//        [--keep: keep the files in --dir and reuse them on the next run]
//        [--cache-mib N] [--mmap-mib N]: A/B only, not the gateway's settings (PRAGMA cache_size / mmap_size)
//   node dist/scripts/bench-scale.js --mode soak   [--duration-s N (600)] [--rate N | auto (auto)] [--retention-hours N (1)]
//        [--sample-s N (5)] [--warmup-s N (duration/5, 10..60)] [--segment-s N (60)] [--count-every-s N (60)]
//        [--binds B (2)] [--window W (50)] [--max-messages N (20000)] [--sims N | auto (auto)] [--tls]
//   node dist/scripts/bench-scale.js --mode priority [--bulk N (50000)] [--priority N (200)] [--gap-ms N (50)] [--tps N (100)]
//        [--lane priority|normal (priority)]: submit→carrier of one account's priority messages while
//        another account's bulk waits on a throttled connector (scripts/bench/scale-priority.ts)
//   every mode: [--json] [--out FILE] [--quiet] [--limit-ms N (600000)]
//
// Prints one table (or the JSON with --json) and writes the JSON to
// bench-results/scale-<mode>-<timestamp>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RESULTS_DIR, intArg, machineInfo, parseArgs, round2, stamp, type MachineInfo } from './bench/common.js';
import { formatBinds, runBindsBench, type BindsResult } from './bench/scale-binds.js';
import { formatDlrMap, runDlrMapBench, type DlrMapResult } from './bench/scale-dlrmap.js';
import { formatPriority, runPriorityBench, type PriorityResult } from './bench/scale-priority.js';
import { formatSoak, runSoakBench, type SoakResult } from './bench/scale-soak.js';

type Mode = 'binds' | 'dlrmap' | 'soak' | 'priority';

interface ScaleReport {
  meta: MachineInfo;
  mode: Mode;
  result: BindsResult | DlrMapResult | SoakResult | PriorityResult;
}

async function main(argv = process.argv.slice(2)): Promise<void> {
  const args = parseArgs(argv);
  const mode = args.get('mode');
  if (mode !== 'binds' && mode !== 'dlrmap' && mode !== 'soak' && mode !== 'priority') throw new Error('--mode takes binds, dlrmap, soak or priority');
  const asJson = args.has('json');
  const log = args.has('quiet') ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const limitMs = intArg(args, 'limit-ms', 600_000);
  const meta = machineInfo();
  log(`bench-scale ${mode}: node ${meta.node}; ${meta.cpuModel} × ${meta.cpuCount}; load ${meta.loadAvgAtStart.join('/')}`);
  let result: ScaleReport['result'];
  let text: string;
  if (mode === 'binds') {
    const binds = intArg(args, 'binds', 1_000);
    const r = await runBindsBench({
      binds,
      concurrency: intArg(args, 'concurrency', binds),
      perBind: intArg(args, 'per-bind', 1),
      tls: args.has('tls'),
      responseTimeoutMs: intArg(args, 'response-timeout-ms', 120_000),
      settleMs: intArg(args, 'settle-ms', 3_000),
      limitMs,
      log,
    });
    result = r;
    text = formatBinds(r);
  } else if (mode === 'dlrmap') {
    const bigArg = args.get('big');
    const big = typeof bigArg === 'string' ? bigArg.split(',') : ['history', 'pending'];
    if (big.some((b) => b !== 'history' && b !== 'pending')) throw new Error('--big takes history, pending or both (comma-separated)');
    const dir = args.get('dir');
    const db = args.get('keep');
    const r = await runDlrMapBench({
      rows: intArg(args, 'rows', 10_000_000),
      smallRows: intArg(args, 'small-rows', 10_000),
      big: big as Array<'history' | 'pending'>,
      ops: intArg(args, 'ops', 20_000),
      rounds: intArg(args, 'rounds', 5),
      ...(typeof dir === 'string' ? { dir: path.resolve(dir) } : {}),
      keep: db !== undefined,
      ...(args.has('cache-mib') ? { cacheMiB: intArg(args, 'cache-mib', 2) } : {}),
      ...(args.has('mmap-mib') ? { mmapMiB: intArg(args, 'mmap-mib', 256) } : {}),
      log,
    });
    result = r;
    text = formatDlrMap(r);
  } else if (mode === 'priority') {
    const lane = args.get('lane') ?? 'priority';
    if (lane !== 'priority' && lane !== 'normal') throw new Error('--lane takes priority or normal');
    const r = await runPriorityBench({
      bulk: intArg(args, 'bulk', 50_000),
      priority: intArg(args, 'priority', 200),
      gapMs: intArg(args, 'gap-ms', 50),
      tps: intArg(args, 'tps', 100),
      lane,
      limitMs,
      log,
    });
    result = r;
    text = formatPriority(r);
  } else {
    const durationS = intArg(args, 'duration-s', 600);
    const rateArg = args.get('rate');
    const retention = args.get('retention-hours');
    const retentionHours = retention === undefined ? 1 : Number(retention);
    if (!Number.isFinite(retentionHours) || retentionHours <= 0) throw new Error('--retention-hours needs a positive number');
    const r = await runSoakBench({
      durationS,
      rate: rateArg === undefined || rateArg === 'auto' ? 'auto' : intArg(args, 'rate', 1),
      retentionHours,
      sampleS: intArg(args, 'sample-s', 5),
      warmupS: intArg(args, 'warmup-s', Math.min(60, Math.max(10, Math.floor(durationS / 5)))),
      segmentS: intArg(args, 'segment-s', 60),
      countEveryS: intArg(args, 'count-every-s', 60),
      binds: intArg(args, 'binds', 2),
      window: intArg(args, 'window', 50),
      maxMessages: intArg(args, 'max-messages', 20_000),
      sims: args.get('sims') === undefined || args.get('sims') === 'auto' ? 'auto' : intArg(args, 'sims', 1),
      tls: args.has('tls'),
      limitMs,
      log,
    });
    result = r;
    text = formatSoak(r);
  }
  meta.loadAvgAtEnd = os.loadavg().map(round2);
  const report: ScaleReport = { meta, mode, result };
  const file =
    typeof args.get('out') === 'string' ? path.resolve(args.get('out') as string) : path.join(RESULTS_DIR, `scale-${mode}-${stamp(meta.timestamp)}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  const json = JSON.stringify(report, null, 2);
  writeFileSync(file, `${json}\n`);
  if (asJson) {
    process.stdout.write(`${json}\n`);
  } else {
    process.stdout.write(`smppgw scale check (${mode}) — ${meta.timestamp}\n`);
    process.stdout.write(
      `node ${meta.node}, ${meta.platform} ${meta.arch}, CPU: ${meta.cpuModel} × ${meta.cpuCount}, git ${meta.gitCommit?.slice(0, 10) ?? '?'}${meta.gitDirty ? ' (dirty tree)' : ''}\n`,
    );
    process.stdout.write(
      `load average at start ${meta.loadAvgAtStart.join(' / ')}, at end ${(meta.loadAvgAtEnd ?? []).join(' / ')}; shared 2-core machine: figures are noisy\n\n`,
    );
    process.stdout.write(`${text}\n`);
  }
  log(`bench-scale: JSON written to ${path.relative(process.cwd(), file) || file}`);
}

await main().catch((err: unknown) => {
  console.error(`bench-scale failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
