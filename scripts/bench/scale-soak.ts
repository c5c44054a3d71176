// Scale check `soak`: the gateway scenario (simulator, gateway, load tool with receipts, separate
// processes on 127.0.0.1; startStack in gateway.ts) run for a long time at a steady rate, watching
// whether the gateway's memory and its database stay flat.
//
//   1. unless --rate is given, the maximum, on a stack of its own with one simulator: warm-up
//      (2,000 messages), then one unpaced load run (`maxMessages`, B binds × window W, receipts)
//      whose rate is messages ÷ the load process's wall time (start-up to last receipt: the rate the
//      gateway sustains *with* receipts, which is below its accept rate); the soak runs at half of
//      it, on a new stack (`sims` simulators) after a warm-up of 2,000 messages;
//   2. the soak: back-to-back load processes of `segmentS` seconds each (`--rate`, receipts on; a
//      new process per segment keeps the load tool's own bookkeeping small) until `durationS`;
//   3. every `sampleS`: gateway VmRSS, database file and WAL sizes, gateway CPU, /status (outbox,
//      connector queue); every `countEveryS` and at the end: the row count of every table (a short
//      read-only connection each time, so it never holds a WAL checkpoint back);
//   4. the verdicts: RSS growth from the end of the warm-up (`warmupS`) to the end (median of the
//      samples in the first and last 30 s after warm-up) < 10 %; per table, the count at the end
//      against the count at the end of the warm-up.
// The gateway runs with store.retentionHours = `retentionHours` (SMPPGW_STORE__RETENTIONHOURS).
// The gateway accepts whole hours only (≥ 1) and prunes once a minute, so a soak shorter than the
// retention cannot show final messages being pruned: `messages` then grows by the rate for the whole
// run, and the report gives the size it levels off at (rate × retention) instead.
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { fmtInt, round2, table } from './common.js';
import { startStack, type Stack } from './gateway.js';
import { fetchStatus, runLoadProcess, sleep, type LoadRun } from './procs.js';

export interface SoakOptions {
  durationS: number;
  /** msgs/s, or 'auto': half the measured maximum. */
  rate: number | 'auto';
  retentionHours: number;
  sampleS: number;
  warmupS: number;
  segmentS: number;
  countEveryS: number;
  /** The maximum-rate probe: binds, window, messages. */
  binds: number;
  window: number;
  maxMessages: number;
  /**
   * Simulators (one connector each, round-robin route), or 'auto': enough that none is sent more
   * than 800,000 messages. The simulator keeps the last 1,000,000 messages for query_sm, and once
   * past that its eviction slows it down (see docs/benchmarks-gateway.md), which would make the
   * carrier, not the gateway, the bottleneck.
   */
  sims: number | 'auto';
  tls: boolean;
  limitMs: number;
  log: (line: string) => void;
}

export interface SoakSample {
  /** Seconds since the soak started. */
  t: number;
  rssMiB: number;
  /** Every simulator together. */
  simRssMiB: number;
  simCpuSec: number;
  dbMiB: number;
  walMiB: number;
  gatewayCpuSec: number;
  outbox: number;
  queued: number;
  inFlight: number;
}

export interface TableCounts {
  t: number;
  counts: Record<string, number>;
  ms: number;
}

export interface SegmentResult {
  index: number;
  startS: number;
  wallS: number;
  requested: number;
  acked: number;
  errors: Record<string, number>;
  dlrsMatched: number;
  msgsPerSec: number;
  respP50: number;
  respP99: number;
  dlrP50?: number;
  dlrP99?: number;
  ok: boolean;
}

export interface SoakResult {
  config: Omit<SoakOptions, 'log'>;
  maxProbe?: { messages: number; wallMs: number; wallRate: number; acceptRate: number; acked: number; dlrsMatched: number };
  rate: number;
  bindsUsed: number;
  simsUsed: number;
  achieved: { acked: number; errors: number; dlrsMatched: number; perSec: number; durationS: number };
  samples: SoakSample[];
  counts: TableCounts[];
  segments: SegmentResult[];
  /** growthPct: from the end of the warm-up; secondHalfGrowthPct: from the middle of the run (30 s around it). */
  rss: { warmMiB: number; endMiB: number; maxMiB: number; growthPct: number; slopeMiBPerMin: number; midMiB: number; secondHalfGrowthPct: number };
  db: { warmMiB: number; endMiB: number; slopeMiBPerMin: number; bytesPerMessage: number; projectedRows: number; projectedMiB: number };
  tables: Array<{ name: string; atWarm: number; atEnd: number; verdict: string }>;
  pruneLines: number;
  pruned: number;
  gatewayWarnings: Record<string, number>;
  target: { rssGrowthLimitPct: number; rssMet: boolean; tablesBounded: boolean; pruneShown: boolean };
}

function fileMiB(f: string): number {
  try {
    return statSync(f).size / 2 ** 20;
  } catch {
    return 0;
  }
}

function countTables(file: string): { counts: Record<string, number>; ms: number } {
  const t0 = performance.now();
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    const counts: Record<string, number> = {};
    for (const n of names)
      counts[n] = db
        .prepare(`SELECT COUNT(*) FROM "${n.replace(/"/g, '""')}"`)
        .pluck()
        .get() as number;
    return { counts, ms: Math.round(performance.now() - t0) };
  } finally {
    db.close();
  }
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

function med(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function loadArgs(stack: Stack, count: number, window: number, binds: number, rate: number): string[] {
  return [
    '--port',
    String(stack.gwPort),
    '--system-id',
    'bench',
    '--password',
    'pw',
    '-n',
    String(count),
    '--window',
    String(window),
    '--binds',
    String(binds),
    ...(rate > 0 ? ['--rate', String(rate)] : []),
    '--dlr',
    '--timeout-ms',
    '60000',
    '--response-timeout-ms',
    '30000',
  ];
}

function stackOptions(o: SoakOptions, sims: number) {
  return {
    name: 'soak',
    simWindow: 50,
    accountWindow: Math.max(200, o.window),
    maxBinds: 80,
    connectorWindow: Math.max(200, o.window * o.binds),
    sims,
    tls: o.tls,
    gatewayEnv: { SMPPGW_STORE__RETENTIONHOURS: String(o.retentionHours) },
    limitMs: o.limitMs,
    log: o.log,
  };
}

export async function runSoakBench(o: SoakOptions): Promise<SoakResult> {
  let rate: number;
  let maxProbe: SoakResult['maxProbe'];
  if (o.rate === 'auto') {
    // The maximum, on a stack of its own (one simulator): warm-up, then one unpaced run.
    const probe = await startStack(stackOptions(o, 1));
    try {
      const load = (args: string[], name: string) => runLoadProcess(args, o.limitMs, name, probe.load.nodeArgs, probe.load.env);
      o.log('bench-scale soak: maximum: warm-up, 2,000 messages');
      await load(loadArgs(probe, 2_000, o.window, o.binds, 0), 'warm-up');
      await sleep(500);
      const r = await load(loadArgs(probe, o.maxMessages, o.window, o.binds, 0), 'max probe');
      const wallRate = (r.summary.acked / r.wallMs) * 1000;
      maxProbe = {
        messages: o.maxMessages,
        wallMs: Math.round(r.wallMs),
        wallRate: Math.round(wallRate),
        acceptRate: Math.round(r.summary.msgsPerSec),
        acked: r.summary.acked,
        dlrsMatched: r.summary.dlrsMatched,
      };
      rate = Math.max(1, Math.floor(wallRate / 2));
      o.log(
        `bench-scale soak: maximum with receipts ${fmtInt(wallRate)} msg/s (accept rate ${fmtInt(r.summary.msgsPerSec)}/s); soaking at ${fmtInt(rate)} msg/s`,
      );
    } finally {
      await probe.stop();
    }
  } else {
    rate = o.rate;
  }
  const sims = o.sims === 'auto' ? Math.max(1, Math.ceil((rate * o.durationS) / 800_000)) : o.sims;
  const stack = await startStack(stackOptions(o, sims));
  const { gw, db } = stack;
  let pruneLines = 0;
  let pruned = 0;
  gw.watch((l) => {
    if (l.msg === 'pruned final messages past retention') {
      pruneLines++;
      pruned += typeof l.pruned === 'number' ? l.pruned : 0;
    }
  });
  const load = (args: string[], name: string): Promise<LoadRun> => runLoadProcess(args, o.limitMs, name, stack.load.nodeArgs, stack.load.env);
  const simSum = (f: (s: (typeof stack.sims)[number]) => number) => stack.sims.reduce((a, s) => a + f(s), 0);
  try {
    o.log('bench-scale soak: warm-up, 2,000 messages');
    await load(loadArgs(stack, 2_000, o.window, o.binds, 0), 'warm-up');
    await sleep(2_000);
    const binds = Math.min(64, Math.max(o.binds, Math.ceil(rate / 800)));

    // ---- sampling -------------------------------------------------------------------------
    const samples: SoakSample[] = [];
    const counts: TableCounts[] = [];
    const t0 = performance.now();
    const now = () => (performance.now() - t0) / 1000;
    let sampling = true;
    let nextCount = 0;
    const sampler = (async () => {
      while (sampling) {
        const t = now();
        let st: Awaited<ReturnType<typeof fetchStatus>> | undefined;
        try {
          st = await fetchStatus(stack.httpPort);
        } catch {
          // a missed /status; the /proc readings still count
        }
        samples.push({
          t: round2(t),
          rssMiB: round2(gw.rssMiB()),
          simRssMiB: round2(simSum((x) => x.rssMiB())),
          simCpuSec: round2(simSum((x) => x.cpuSec())),
          dbMiB: round2(fileMiB(db)),
          walMiB: round2(fileMiB(`${db}-wal`)),
          gatewayCpuSec: round2(gw.cpuSec()),
          outbox: Object.values(st?.outbox ?? {}).reduce((a, b) => a + b, 0),
          queued: st?.connectors ? Object.values(st.connectors).reduce((a, c) => a + (c.queued ?? 0), 0) : NaN,
          inFlight: st?.connectors ? Object.values(st.connectors).reduce((a, c) => a + (c.inFlight ?? 0), 0) : NaN,
        });
        if (t >= nextCount) {
          nextCount = t + o.countEveryS;
          try {
            counts.push({ t: round2(t), ...countTables(db) });
          } catch (err) {
            o.log(`bench-scale soak: table count failed: ${(err as Error).message}`);
          }
        }
        const wait = o.sampleS * 1000 - ((performance.now() - t0) % (o.sampleS * 1000));
        await sleep(wait);
      }
    })();

    // ---- the soak -------------------------------------------------------------------------
    const segments: SegmentResult[] = [];
    o.log(`bench-scale soak: ${o.durationS} s at ${fmtInt(rate)} msg/s on ${binds} binds, segments of ${o.segmentS} s, retention ${o.retentionHours} h`);
    try {
      for (let i = 0; now() < o.durationS - 1; i++) {
        const startS = now();
        const segS = Math.min(o.segmentS, o.durationS - startS);
        const n = Math.max(1, Math.round(rate * segS));
        const r = await load(loadArgs(stack, n, o.window, binds, rate), `segment ${i + 1}`);
        const s = r.summary;
        segments.push({
          index: i + 1,
          startS: round2(startS),
          wallS: round2(r.wallMs / 1000),
          requested: s.requested,
          acked: s.acked,
          errors: s.errors,
          dlrsMatched: s.dlrsMatched,
          msgsPerSec: s.msgsPerSec,
          respP50: s.latencyMs.p50,
          respP99: s.latencyMs.p99,
          ...(s.dlrLatencyMs ? { dlrP50: s.dlrLatencyMs.p50, dlrP99: s.dlrLatencyMs.p99 } : {}),
          ok: s.ok,
        });
        const last = samples[samples.length - 1];
        o.log(
          `bench-scale soak: segment ${i + 1} (${startS.toFixed(0)} s): ${fmtInt(s.acked)}/${fmtInt(s.requested)} acked, receipts ${fmtInt(s.dlrsMatched)}, ${fmtInt(s.msgsPerSec)}/s, ` +
            `resp p99 ${s.latencyMs.p99} ms${s.dlrLatencyMs ? `, DLR p99 ${s.dlrLatencyMs.p99} ms` : ''}; gateway RSS ${last?.rssMiB.toFixed(0) ?? '?'} MiB, db ${last?.dbMiB.toFixed(0) ?? '?'} + WAL ${last?.walMiB.toFixed(0) ?? '?'} MiB`,
        );
      }
    } finally {
      sampling = false;
      await sampler;
    }
    const durationS = now();
    await sleep(2_000);
    const endT = now();
    samples.push({
      t: round2(endT),
      rssMiB: round2(gw.rssMiB()),
      simRssMiB: round2(simSum((x) => x.rssMiB())),
      simCpuSec: round2(simSum((x) => x.cpuSec())),
      dbMiB: round2(fileMiB(db)),
      walMiB: round2(fileMiB(`${db}-wal`)),
      gatewayCpuSec: round2(gw.cpuSec()),
      outbox: NaN,
      queued: NaN,
      inFlight: NaN,
    });
    counts.push({ t: round2(endT), ...countTables(db) });

    // ---- derived ---------------------------------------------------------------------------
    const post = samples.filter((s) => s.t >= o.warmupS);
    const warm = post.filter((s) => s.t < o.warmupS + 30);
    const tail = post.filter((s) => s.t >= durationS - 30);
    const warmRss = med(warm.map((s) => s.rssMiB));
    const endRss = med(tail.map((s) => s.rssMiB));
    const dbTotal = (s: SoakSample) => s.dbMiB + s.walMiB;
    const warmDb = med(warm.map(dbTotal));
    const endDb = med(tail.map(dbTotal));
    const acked = segments.reduce((a, s) => a + s.acked, 0);
    const errors = segments.reduce((a, s) => a + Object.values(s.errors).reduce((x, y) => x + y, 0), 0);
    const matched = segments.reduce((a, s) => a + s.dlrsMatched, 0);
    const lastCounts = counts[counts.length - 1]!.counts;
    const warmCounts = counts.find((c) => c.t >= o.warmupS)?.counts ?? counts[0]!.counts;
    const messagesNow = lastCounts.messages ?? 0;
    const bytesPerMessage = messagesNow > 0 ? (fileMiB(db) * 2 ** 20) / messagesNow : NaN;
    const perSec = acked / durationS;
    const projectedRows = Math.round(perSec * o.retentionHours * 3600);
    const tables = Object.keys(lastCounts).map((name) => {
      const a = warmCounts[name] ?? 0;
      const b = lastCounts[name] ?? 0;
      const grows = b > a * 1.1 + 100;
      let verdict = grows ? 'grows' : 'flat';
      if (name === 'messages' && grows)
        verdict = pruneLines > 0 ? 'grows (pruning started)' : `grows: bounded by retention (${o.retentionHours} h), not reached in this run`;
      return { name, atWarm: a, atEnd: b, verdict };
    });
    const tablesBounded = tables.every((t) => t.verdict === 'flat' || t.name === 'messages');
    const growthPct = ((endRss - warmRss) / warmRss) * 100;
    const midRss = med(samples.filter((s) => Math.abs(s.t - durationS / 2) <= 15).map((s) => s.rssMiB));
    const { log: _log, ...config } = o;
    return {
      config,
      ...(maxProbe ? { maxProbe } : {}),
      rate,
      bindsUsed: binds,
      simsUsed: sims,
      achieved: { acked, errors, dlrsMatched: matched, perSec: Math.round(perSec), durationS: round2(durationS) },
      samples,
      counts,
      segments,
      rss: {
        warmMiB: round2(warmRss),
        endMiB: round2(endRss),
        maxMiB: round2(Math.max(...post.map((s) => s.rssMiB))),
        growthPct: round2(growthPct),
        slopeMiBPerMin: round2(
          slope(
            post.map((s) => s.t),
            post.map((s) => s.rssMiB),
          ) * 60,
        ),
        midMiB: round2(midRss),
        secondHalfGrowthPct: round2(((endRss - midRss) / midRss) * 100),
      },
      db: {
        warmMiB: round2(warmDb),
        endMiB: round2(endDb),
        slopeMiBPerMin: round2(
          slope(
            post.map((s) => s.t),
            post.map(dbTotal),
          ) * 60,
        ),
        bytesPerMessage: Math.round(bytesPerMessage),
        projectedRows,
        projectedMiB: round2((projectedRows * bytesPerMessage) / 2 ** 20),
      },
      tables,
      pruneLines,
      pruned,
      gatewayWarnings: { ...gw.warningsByMsg },
      target: { rssGrowthLimitPct: 10, rssMet: growthPct < 10, tablesBounded, pruneShown: pruneLines > 0 },
    };
  } finally {
    await stack.stop();
  }
}

export function formatSoak(r: SoakResult): string {
  const out: string[] = [];
  const c = r.config;
  out.push(
    `soak: ${c.durationS} s at ${fmtInt(r.rate)} msg/s${r.maxProbe ? ` (half of ${fmtInt(r.maxProbe.wallRate)} msg/s, the maximum with receipts measured first: ${fmtInt(r.maxProbe.messages)} msgs unpaced, accept rate ${fmtInt(r.maxProbe.acceptRate)}/s)` : ' (--rate)'}` +
      ` on ${r.bindsUsed} binds, receipts on${c.tls ? ', TLS' : ''}, ${r.simsUsed} simulator${r.simsUsed > 1 ? 's (one connector each, round-robin route)' : ''}; store.retentionHours ${c.retentionHours}; samples every ${c.sampleS} s, warm-up ${c.warmupS} s`,
  );
  out.push(
    table([
      ['', 'value'],
      ['messages acked (errors), receipts matched', `${fmtInt(r.achieved.acked)} (${fmtInt(r.achieved.errors)}), ${fmtInt(r.achieved.dlrsMatched)}`],
      ['achieved rate over the soak', `${fmtInt(r.achieved.perSec)} msg/s over ${r.achieved.durationS.toFixed(0)} s`],
      ['gateway RSS MiB: after warm-up → end (max)', `${r.rss.warmMiB.toFixed(1)} → ${r.rss.endMiB.toFixed(1)} (${r.rss.maxMiB.toFixed(1)})`],
      ['gateway RSS growth after warm-up; trend', `${r.rss.growthPct.toFixed(1)} %; ${r.rss.slopeMiBPerMin.toFixed(2)} MiB/min`],
      [
        'gateway RSS MiB at mid-run → end (growth over the second half)',
        `${r.rss.midMiB.toFixed(1)} → ${r.rss.endMiB.toFixed(1)} (${r.rss.secondHalfGrowthPct.toFixed(1)} %)`,
      ],
      ['database + WAL MiB: after warm-up → end; trend', `${r.db.warmMiB.toFixed(0)} → ${r.db.endMiB.toFixed(0)}; ${r.db.slopeMiBPerMin.toFixed(1)} MiB/min`],
      ['database bytes per retained message', fmtInt(r.db.bytesPerMessage)],
      [`messages at steady state (rate × ${c.retentionHours} h retention), file size`, `${fmtInt(r.db.projectedRows)}, ~${fmtInt(r.db.projectedMiB)} MiB`],
      ['prune runs seen (rows pruned)', `${fmtInt(r.pruneLines)} (${fmtInt(r.pruned)})`],
      [
        'gateway log lines at warn or above',
        Object.keys(r.gatewayWarnings).length
          ? Object.entries(r.gatewayWarnings)
              .map(([k, v]) => `"${k}": ${v}`)
              .join(', ')
          : '0',
      ],
    ]),
  );
  out.push('');
  out.push('rows per table, after warm-up and at the end');
  out.push(table([['table', 'after warm-up', 'end', ''], ...r.tables.map((t) => [t.name, fmtInt(t.atWarm), fmtInt(t.atEnd), t.verdict])]));
  out.push('');
  out.push('over time (one line per minute or so)');
  const step = Math.max(1, Math.round(60 / c.sampleS));
  const rows = [['t s', 'gateway RSS MiB', 'db MiB', 'WAL MiB', 'gateway CPU s', 'outbox', 'conn. queued', 'sim RSS MiB', 'sim CPU s']];
  r.samples.forEach((s, i) => {
    if (i % step === 0 || i === r.samples.length - 1) {
      rows.push([
        s.t.toFixed(0),
        s.rssMiB.toFixed(1),
        s.dbMiB.toFixed(0),
        s.walMiB.toFixed(0),
        s.gatewayCpuSec.toFixed(1),
        Number.isFinite(s.outbox) ? fmtInt(s.outbox) : '-',
        Number.isFinite(s.queued) ? fmtInt(s.queued) : '-',
        s.simRssMiB.toFixed(0),
        s.simCpuSec.toFixed(1),
      ]);
    }
  });
  out.push(table(rows));
  out.push('');
  out.push('segments (one load-tool process each)');
  out.push(
    table([
      ['#', 'start s', 'acked', 'msg/s', 'resp p50 / p99 ms', 'DLR p50 / p99 ms', 'ok'],
      ...r.segments.map((s) => [
        String(s.index),
        s.startS.toFixed(0),
        fmtInt(s.acked),
        fmtInt(s.msgsPerSec),
        `${s.respP50} / ${s.respP99}`,
        s.dlrP50 !== undefined ? `${s.dlrP50} / ${s.dlrP99}` : '-',
        s.ok ? 'yes' : 'NO',
      ]),
    ]),
  );
  out.push('');
  out.push(
    `Targets: RSS growth < ${r.target.rssGrowthLimitPct} % after warm-up: ${r.target.rssMet ? 'met' : 'MISSED'} (${r.rss.growthPct.toFixed(1)} %); ` +
      `no unbounded table: ${r.target.tablesBounded ? 'every table but messages flat' : 'a table other than messages GREW'}` +
      `${r.target.pruneShown ? ', messages pruned by retention' : `; messages: pruning not shown (retention ${c.retentionHours} h > this run)`}`,
  );
  return out.join('\n');
}
