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
//   With `tls`, every SMPP hop is TLS: load tool → the gateway's TLS listener, gateway → simulator
//   (connector --tls), load tool → simulator for the direct baseline (see tls.ts).
//   4. per phase: the load tool's JSON summary, CPU seconds and peak RSS of every process involved.
//      Simulator and gateway: utime+stime from /proc/<pid>/stat before and after the phase, and
//      VmHWM from /proc/<pid>/status after resetting it (clear_refs 5) at the phase start. Load tool:
//      process.cpuUsage() and resourceUsage().maxRSS written at its exit by a preload
//      (gateway-usage.ts), since its /proc entry is gone when it ends.
// Every wait is bounded (limitMs, default 120 s); children are killed and the temp dir removed in
// every case.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LoadSummary } from '../../src/sim/load.js';
import { clkTck, fetchStatus, operator, runLoadProcess, sleep, startLongLived, waitConnectorUp, waitSimPort, type LongLived, type ProcUsage } from './procs.js';
import { gatewayTlsEnv, makePki, tlsClientShim, tlsServerShim } from './tls.js';

export { CLI, type ProcUsage } from './procs.js';

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
  /**
   * Every SMPP hop over TLS: load tool → gateway (its TLS listener), gateway → simulator (the
   * connector with --tls) and, for the direct baseline, load tool → simulator.
   */
  tls: boolean;
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
  /** Gateway phases: SQLite group commits, the writes in them and WAL flushes (fsync) during the phase (from /status). */
  store?: { commits: number; writes: number; syncs?: number };
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

/** a − b per percentile, to 0.01 ms (the latency the gateway adds). */
export function minus(a: Percentiles, b: Percentiles): Percentiles {
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(a.p50 - b.p50), p95: r(a.p95 - b.p95), p99: r(a.p99 - b.p99) };
}

/** The processes of one end-to-end run: simulator, gateway (with its database set up), temp dir. */
export interface Stack {
  dir: string;
  db: string;
  /** The first simulator (connector `sim`). */
  sim: LongLived;
  /** Every simulator: connectors `sim`, `sim2`, `sim3`, … in that order. */
  sims: LongLived[];
  connectors: string[];
  gw: LongLived;
  simPort: number;
  /** The port ESMEs use: the gateway's TLS listener with `tls`, else its plain one. */
  gwPort: number;
  httpPort: number;
  /** store.synchronous as the gateway logged it. */
  synchronous: string;
  tls: boolean;
  /** node arguments and environment for a load tool (the TLS shim with `tls`). */
  load: { nodeArgs: string[]; env: NodeJS.ProcessEnv };
  /** The CA file (with `tls`), for clients of our own. */
  ca?: string;
  /** Stops both processes (bounded) and removes the temp dir. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Prefix of the temp dir name. */
  name: string;
  /** deliver_sm in flight per bind at the simulator. */
  simWindow: number;
  /** The account `bench` (password `pw`): window per bind and max binds. */
  accountWindow: number;
  maxBinds: number;
  /** The connector `sim` (one trx bind): window. */
  connectorWindow: number;
  /**
   * Simulators, one connector each (`sim`, `sim2`, …), the MT route round-robin over them
   * (default 1: one connector, a static route).
   */
  sims?: number;
  synchronous?: 'full' | 'normal';
  /** ESMEs → gateway → simulator (and ESMEs → simulator) over TLS. */
  tls: boolean;
  /** V8 CPU profile of the gateway process into this directory. */
  cpuProfDir?: string;
  /** More environment for the gateway (SMPPGW_… keys). */
  gatewayEnv?: NodeJS.ProcessEnv;
  limitMs: number;
  log: (line: string) => void;
}

/**
 * Starts the simulator (`sim smsc --dlr-delay 0`), sets the gateway's database up with the operator
 * CLI (account `bench`, connector `sim`, an MT route to it) and starts the gateway (127.0.0.1, free
 * ports); resolves once the gateway is ready and its connector bound. With `sims` > 1, one
 * simulator and connector each, and a round-robin route over them. On failure everything
 * started is stopped before the error is thrown.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  const tck = clkTck();
  const dir = mkdtempSync(path.join(tmpdir(), `smppgw-bench-${o.name}-`));
  const db = path.join(dir, 'gw.db');
  const sims: LongLived[] = [];
  let gw: LongLived | undefined;
  const stop = async () => {
    const stops: Promise<void>[] = [];
    if (gw) stops.push(gw.stop(Math.min(20_000, o.limitMs)).catch(() => gw!.kill()));
    for (const sim of sims) stops.push(sim.stop(Math.min(10_000, o.limitMs)).catch(() => sim.kill()));
    await Promise.allSettled(stops);
    gw?.kill();
    for (const sim of sims) sim.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = o.tls ? makePki(dir) : undefined;
    const simShim = pki ? tlsServerShim(pki) : { nodeArgs: [], env: {} };
    const connectors: string[] = [];
    const simPorts: number[] = [];
    for (let i = 0; i < (o.sims ?? 1); i++) {
      const sim = startLongLived(
        i === 0 ? 'simulator' : `simulator ${i + 1}`,
        ['sim', 'smsc', '--port', '0', '--host', '127.0.0.1', '--dlr-delay', '0', '--window', String(o.simWindow), '--stats-every', '0', '--log-level', 'info'],
        simShim.env,
        tck,
        dir,
        simShim.nodeArgs,
      );
      sims.push(sim);
      const port = await waitSimPort(sim, o.limitMs);
      simPorts.push(port);
      o.log(`bench: simulator pid ${sim.pid} on 127.0.0.1:${port}${pki ? ' (TLS)' : ''}`);
    }
    const simPort = simPorts[0]!;

    operator(db, o.limitMs, 'init');
    operator(db, o.limitMs, 'account', 'add', 'bench', '--password', 'pw', '--window', String(o.accountWindow), '--max-binds', String(o.maxBinds));
    simPorts.forEach((port, i) => {
      const id = i === 0 ? 'sim' : `sim${i + 1}`;
      connectors.push(id);
      operator(
        db,
        o.limitMs,
        'connector',
        'add',
        id,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--system-id',
        'gw',
        '--password',
        'pw',
        '--window',
        String(o.connectorWindow),
        ...(pki ? ['--tls'] : []),
      );
    });
    operator(db, o.limitMs, 'route', 'add', 'mt', '--connector', connectors.join(','), ...(connectors.length > 1 ? ['--kind', 'roundrobin'] : []));
    gw = startLongLived(
      'gateway',
      ['start', '--db', db, '--port', '0', '--http-port', '0', ...(pki ? ['--tls-port', '0'] : [])],
      {
        SMPPGW_SMPP__HOST: '127.0.0.1',
        SMPPGW_HTTP__HOST: '127.0.0.1',
        ...(o.synchronous ? { SMPPGW_STORE__SYNCHRONOUS: o.synchronous } : {}),
        ...(pki ? gatewayTlsEnv(pki) : {}),
        ...o.gatewayEnv,
      },
      tck,
      dir,
      o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, '--cpu-prof-name=gateway.cpuprofile'] : [],
    );
    const storeLine = await gw.waitLine((l) => l.msg === 'store open', o.limitMs);
    const ready = await gw.waitLine((l) => l.msg === 'smppgw ready', o.limitMs);
    const gwPort = (pki ? ready.smppTls : ready.smpp) as number;
    if (typeof gwPort !== 'number') throw new Error(`gateway ready line without the ${pki ? 'TLS ' : ''}SMPP port: ${JSON.stringify(ready)}`);
    const httpPort = ready.http as number;
    for (const c of connectors) await waitConnectorUp(httpPort, o.limitMs, c);
    o.log(
      `bench: gateway pid ${gw.pid} on 127.0.0.1:${gwPort}${pki ? ' (TLS)' : ''} (http ${httpPort}), store.synchronous=${String(storeLine.synchronous)}, connector bound`,
    );
    return {
      dir,
      db,
      sim: sims[0]!,
      sims,
      connectors,
      gw,
      simPort,
      gwPort,
      httpPort,
      synchronous: String(storeLine.synchronous),
      tls: o.tls,
      load: pki ? tlsClientShim(pki) : { nodeArgs: [], env: {} },
      ...(pki ? { ca: pki.ca } : {}),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export async function runGatewayBench(o: GatewayBenchOptions): Promise<GatewayBenchResult> {
  const tck = clkTck();
  const phases: PhaseResult[] = [];
  const stack = await startStack({
    name: 'gw',
    simWindow: o.simWindow,
    accountWindow: o.accountWindow,
    maxBinds: Math.max(o.binds, typeof o.halfBinds === 'number' ? o.halfBinds : 64) + 2,
    connectorWindow: o.connectorWindow,
    ...(o.synchronous ? { synchronous: o.synchronous } : {}),
    tls: o.tls,
    ...(o.cpuProfDir ? { cpuProfDir: o.cpuProfDir } : {}),
    limitMs: o.limitMs,
    log: o.log,
  });
  const { sim, gw, simPort, gwPort, httpPort, synchronous } = stack;
  try {
    const common = (count: number, rate: number, binds: number) => [
      '-n',
      String(count),
      '--window',
      String(o.window),
      '--binds',
      String(binds),
      ...(rate > 0 ? ['--rate', String(rate)] : []),
      ...(o.dlr ? ['--dlr'] : []),
      '--timeout-ms',
      '60000',
      '--response-timeout-ms',
      '30000',
    ];
    const targets = {
      direct: ['--port', String(simPort), '--system-id', 'bench', '--password', 'pw'],
      gateway: ['--port', String(gwPort), '--system-id', 'bench', '--password', 'pw'],
    } as const;

    const phase = async (name: string, target: 'gateway' | 'direct', count: number, rate: number, keep: boolean, binds = o.binds): Promise<PhaseResult> => {
      const s = sim;
      const g = gw;
      s.resetPeak();
      g.resetPeak();
      const simCpu0 = s.cpuSec();
      const gwCpu0 = g.cpuSec();
      const st0 = target === 'gateway' ? await storeCounts(httpPort) : undefined;
      o.log(`bench-gateway: ${name}: ${count} msgs → ${target} on ${binds} binds${rate > 0 ? ` at ${rate}/s` : ''}`);
      const poller = target === 'gateway' ? pollPeaks(httpPort) : undefined;
      const r = await runLoadProcess([...targets[target], ...common(count, rate, binds)], o.limitMs, name, stack.load.nodeArgs, stack.load.env).finally(() =>
        poller?.stop(),
      );
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
        result.store = {
          commits: st1.commits - st0.commits,
          writes: st1.writes - st0.writes,
          ...(Number.isFinite(st1.syncs) ? { syncs: st1.syncs - st0.syncs } : {}),
        };
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
      derived.dlrLatencyMs = {
        gateway: fullGw.summary.dlrLatencyMs,
        direct: fullDirect.summary.dlrLatencyMs,
        added: minus(fullGw.summary.dlrLatencyMs, fullDirect.summary.dlrLatencyMs),
      };
    }
    const { log: _log, ...config } = o;
    return { config: { ...config, clkTck: tck, storeSynchronous: synchronous }, phases, derived };
  } finally {
    await stack.stop();
  }
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
        peaks.outbox = Math.max(
          peaks.outbox,
          Object.values(st.outbox ?? {}).reduce((a, b) => a + b, 0),
        );
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

async function storeCounts(httpPort: number): Promise<{ commits: number; writes: number; syncs: number }> {
  try {
    const st = await fetchStatus(httpPort);
    return { commits: st.commits ?? NaN, writes: st.writes ?? NaN, syncs: st.syncs ?? NaN };
  } catch {
    return { commits: NaN, writes: NaN, syncs: NaN };
  }
}
