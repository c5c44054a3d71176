// Scale check `binds`: N ESME binds (default 1,000) on one account of the gateway at once.
//
// Processes (127.0.0.1): the simulator and the gateway (startStack in gateway.ts; the account has
// max binds N + 10, and the gateway runs with security.maxConnectionsPerIp and smpp.maxConnections
// raised above N through SMPPGW_… variables, since every bind comes from 127.0.0.1), and one client
// process (binds-client.ts) holding all N sessions.
//
// Steps and readings:
//   1. gateway idle (connector bound, no ESME): VmRSS, after a short settle;
//   2. the client opens N binds, at most `concurrency` under way at once (default: all at once):
//      per bind connect() → bind_transceiver_resp; time from the first connect to the last bind;
//      gateway CPU during the storm; gateway VmHWM (reset before) and VmRSS once all are bound, and
//      again after `settleMs`; /status must show N bound sessions of the account;
//   3. traffic across them: `perBind` submit_sm with receipts on every session; acked, receipts
//      matched, on how many sessions receipts arrived; gateway VmRSS after;
//   4. all N unbind: how long it takes; gateway VmRSS after.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BindsBound, BindsClosed, BindsFromChild, BindsSent, BindsToChild } from './binds-client.js';
import { fmtInt, round2, spread, table } from './common.js';
import { startStack } from './gateway.js';
import { fetchStatus, sleep } from './procs.js';

export interface BindsOptions {
  binds: number;
  concurrency: number;
  perBind: number;
  tls: boolean;
  /** Client-side bind (and submit) response timeout. */
  responseTimeoutMs: number;
  settleMs: number;
  limitMs: number;
  log: (line: string) => void;
}

export interface BindsResult {
  config: Omit<BindsOptions, 'log'>;
  gateway: {
    rssIdleMiB: number;
    rssBoundMiB: number;
    peakDuringBindsMiB: number;
    rssSettledMiB: number;
    rssAfterTrafficMiB: number;
    rssAfterUnbindMiB: number;
    /** (settled − idle) ÷ bound, in KiB. */
    perBindKiB: number;
    cpuBindsSec: number;
    cpuPerBindMs: number;
    /** Sessions of the account that /status listed once the client said all were bound. */
    statusBound: number;
    warnings: number;
    warningsByMsg: Record<string, number>;
    /** Gateway CPU seconds while the traffic step ran. */
    cpuTrafficSec: number;
  };
  bind: {
    bound: number;
    failed: Record<string, number>;
    totalMs: number;
    bindMs: ReturnType<typeof spread>;
    connectMs: ReturnType<typeof spread>;
    over10s: number;
    clientCpuSec: number;
    clientRssMiB: number;
  };
  traffic: Omit<BindsSent, 'type' | 'respMs' | 'dlrMs'> & { respMs: ReturnType<typeof spread>; dlrMs: ReturnType<typeof spread> };
  unbind: { elapsedMs: number; lost: number };
  /** RSS target: every reading below the limit; all: every bind bound. */
  target: { rssLimitMiB: number; met: boolean; allBound: boolean };
}

/** The target: RSS < 250 MB (10^6 bytes), i.e. 238.4 MiB. */
export const BINDS_RSS_TARGET_MIB = 250e6 / 2 ** 20;

const CLIENT = fileURLToPath(new URL('./binds-client.js', import.meta.url));

export async function runBindsBench(o: BindsOptions): Promise<BindsResult> {
  const stack = await startStack({
    name: 'binds',
    simWindow: 50,
    accountWindow: 10,
    maxBinds: o.binds + 10,
    connectorWindow: 200,
    tls: o.tls,
    gatewayEnv: {
      SMPPGW_SECURITY__MAXCONNECTIONSPERIP: String(o.binds + 100),
      SMPPGW_SMPP__MAXCONNECTIONS: String(Math.max(10_000, o.binds + 100)),
    },
    limitMs: o.limitMs,
    log: o.log,
  });
  const child = fork(CLIENT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: BindsFromChild[] = [];
  let wake: (() => void) | undefined;
  let exited = false;
  child.on('message', (m: BindsFromChild) => {
    inbox.push(m);
    wake?.();
  });
  child.once('exit', () => {
    exited = true;
    wake?.();
  });
  const next = async <T extends BindsFromChild['type']>(type: T, what: string): Promise<Extract<BindsFromChild, { type: T }>> => {
    const deadline = Date.now() + o.limitMs;
    for (;;) {
      const m = inbox.shift();
      if (m?.type === 'error') throw new Error(`binds client: ${m.message}`);
      if (m?.type === type) return m as Extract<BindsFromChild, { type: T }>;
      if (m) continue;
      if (exited) throw new Error(`binds client exited while ${what}`);
      if (Date.now() > deadline) throw new Error(`binds client: no answer within ${o.limitMs} ms while ${what}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 1_000);
      });
      wake = undefined;
    }
  };
  const tell = (m: BindsToChild) => child.send(m);
  const { gw } = stack;
  try {
    await sleep(o.settleMs);
    const rssIdle = gw.rssMiB();
    gw.resetPeak();
    const cpu0 = gw.cpuSec();
    o.log(
      `bench-scale binds: gateway idle at ${rssIdle.toFixed(1)} MiB; opening ${o.binds} binds (${o.concurrency >= o.binds ? 'all at once' : `${o.concurrency} at a time`}${o.tls ? ', TLS' : ''})`,
    );
    tell({
      type: 'bind',
      port: stack.gwPort,
      binds: o.binds,
      concurrency: o.concurrency,
      responseTimeoutMs: o.responseTimeoutMs,
      systemId: 'bench',
      password: 'pw',
      ...(stack.ca ? { ca: stack.ca } : {}),
    });
    const bound: BindsBound = await next('bound', 'binding');
    const cpuBinds = gw.cpuSec() - cpu0;
    const rssBound = gw.rssMiB();
    const peak = gw.peakRssMiB();
    const st = await fetchStatus(stack.httpPort, 30_000);
    const statusBound = (st.binds?.bench ?? []).filter((s) => s.startsWith('bound')).length;
    o.log(
      `bench-scale binds: ${bound.bound}/${o.binds} bound in ${(bound.totalMs / 1000).toFixed(1)} s (failed ${JSON.stringify(bound.failed)}); gateway ${rssBound.toFixed(1)} MiB (peak ${peak.toFixed(1)}), /status lists ${statusBound}`,
    );
    await sleep(o.settleMs);
    const rssSettled = gw.rssMiB();
    o.log(`bench-scale binds: after ${o.settleMs} ms: gateway ${rssSettled.toFixed(1)} MiB; sending ${o.perBind} message(s) with receipt on each bind`);
    const cpu1 = gw.cpuSec();
    tell({ type: 'send', perBind: o.perBind, timeoutMs: Math.min(60_000, o.limitMs) });
    const sent: BindsSent = await next('sent', 'sending');
    const cpuTraffic = gw.cpuSec() - cpu1;
    await sleep(1_000);
    const rssTraffic = gw.rssMiB();
    o.log(
      `bench-scale binds: acked ${sent.acked}/${sent.sent}, receipts matched ${sent.matched} (on ${sent.sessionsWithReceipts} sessions), lost sessions ${sent.lost}; gateway ${rssTraffic.toFixed(1)} MiB`,
    );
    tell({ type: 'unbind' });
    const closed: BindsClosed = await next('closed', 'unbinding');
    await sleep(o.settleMs);
    const rssUnbound = gw.rssMiB();
    o.log(`bench-scale binds: all unbound in ${(closed.elapsedMs / 1000).toFixed(2)} s; gateway ${rssUnbound.toFixed(1)} MiB`);
    tell({ type: 'exit' });
    const { log: _log, ...config } = o;
    const worst = Math.max(rssBound, rssSettled, rssTraffic, peak);
    return {
      config,
      gateway: {
        rssIdleMiB: round2(rssIdle),
        rssBoundMiB: round2(rssBound),
        peakDuringBindsMiB: round2(peak),
        rssSettledMiB: round2(rssSettled),
        rssAfterTrafficMiB: round2(rssTraffic),
        rssAfterUnbindMiB: round2(rssUnbound),
        perBindKiB: round2(((rssSettled - rssIdle) * 1024) / Math.max(1, bound.bound)),
        cpuBindsSec: round2(cpuBinds),
        cpuPerBindMs: round2((cpuBinds * 1000) / Math.max(1, bound.bound)),
        statusBound,
        warnings: gw.warnings,
        warningsByMsg: { ...gw.warningsByMsg },
        cpuTrafficSec: round2(cpuTraffic),
      },
      bind: {
        bound: bound.bound,
        failed: bound.failed,
        totalMs: Math.round(bound.totalMs),
        bindMs: spread(bound.bindMs),
        connectMs: spread(bound.connectMs),
        over10s: bound.bindMs.filter((x) => x > 10_000).length,
        clientCpuSec: round2(bound.cpuUs / 1e6),
        clientRssMiB: round2(bound.rssMiB),
      },
      traffic: {
        sent: sent.sent,
        acked: sent.acked,
        errors: sent.errors,
        receipts: sent.receipts,
        matched: sent.matched,
        sessionsWithReceipts: sent.sessionsWithReceipts,
        lost: sent.lost,
        elapsedMs: Math.round(sent.elapsedMs),
        rssMiB: round2(sent.rssMiB),
        respMs: spread(sent.respMs),
        dlrMs: spread(sent.dlrMs),
      },
      unbind: { elapsedMs: Math.round(closed.elapsedMs), lost: closed.lost },
      target: { rssLimitMiB: round2(BINDS_RSS_TARGET_MIB), met: worst < BINDS_RSS_TARGET_MIB, allBound: bound.bound === o.binds },
    };
  } finally {
    if (!exited) child.kill('SIGKILL');
    await stack.stop();
  }
}

const ms = (x: number) => (Number.isFinite(x) ? (x >= 100 ? fmtInt(x) : x.toFixed(1)) : '-');
const dist = (d: ReturnType<typeof spread>) => `${ms(d.p50)} / ${ms(d.p95)} / ${ms(d.p99)} / ${ms(d.max)}`;

export function formatBinds(r: BindsResult): string {
  const g = r.gateway;
  const out: string[] = [];
  out.push(
    `binds: ${fmtInt(r.config.binds)} bind_transceiver on one account from one client process, ${r.config.concurrency >= r.config.binds ? 'all started at once' : `${r.config.concurrency} under way at a time`}` +
      `${r.config.tls ? ', over TLS' : ''}; then ${r.config.perBind} submit_sm with receipt per bind`,
  );
  const failed = Object.entries(r.bind.failed)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  out.push(
    table([
      ['', 'value'],
      [
        'bound / requested (gateway /status lists)',
        `${fmtInt(r.bind.bound)} / ${fmtInt(r.config.binds)} (${fmtInt(g.statusBound)})${failed ? `; failed: ${failed}` : ''}`,
      ],
      [
        'time to all bound (first connect → last bind_resp)',
        `${(r.bind.totalMs / 1000).toFixed(2)} s (${fmtInt((r.bind.bound * 1000) / r.bind.totalMs)} binds/s)`,
      ],
      ['bind latency ms p50 / p95 / p99 / max (connect → bind_resp)', dist(r.bind.bindMs)],
      [`connect ms p50 / p95 / p99 / max (${r.config.tls ? 'TCP + TLS handshake' : 'TCP'})`, dist(r.bind.connectMs)],
      ['binds slower than 10 s (a common ESME bind timeout)', fmtInt(r.bind.over10s)],
      ['gateway CPU during the binds (per bind)', `${g.cpuBindsSec.toFixed(2)} s (${g.cpuPerBindMs.toFixed(1)} ms)`],
      ['gateway RSS MiB: idle → all bound → settled', `${g.rssIdleMiB.toFixed(1)} → ${g.rssBoundMiB.toFixed(1)} → ${g.rssSettledMiB.toFixed(1)}`],
      ['gateway peak RSS MiB during the binds (VmHWM)', g.peakDuringBindsMiB.toFixed(1)],
      ['gateway RSS per bind (settled − idle)', `${g.perBindKiB.toFixed(1)} KiB`],
      [
        'traffic: acked / sent, receipts matched',
        `${fmtInt(r.traffic.acked)} / ${fmtInt(r.traffic.sent)}, ${fmtInt(r.traffic.matched)}${Object.keys(r.traffic.errors).length ? `; errors ${JSON.stringify(r.traffic.errors)}` : ''}`,
      ],
      ['traffic: sessions that received receipts; sessions lost', `${fmtInt(r.traffic.sessionsWithReceipts)}; ${fmtInt(r.traffic.lost)}`],
      [
        'traffic: submit→resp / submit→DLR ms p50 / p99',
        `${ms(r.traffic.respMs.p50)} / ${ms(r.traffic.respMs.p99)}; ${ms(r.traffic.dlrMs.p50)} / ${ms(r.traffic.dlrMs.p99)} (${(r.traffic.elapsedMs / 1000).toFixed(2)} s in all)`,
      ],
      ['gateway RSS MiB after traffic, after all unbound', `${g.rssAfterTrafficMiB.toFixed(1)}, ${g.rssAfterUnbindMiB.toFixed(1)}`],
      ['unbind all', `${(r.unbind.elapsedMs / 1000).toFixed(2)} s`],
      ['client process: CPU during binds, RSS', `${r.bind.clientCpuSec.toFixed(2)} s, ${r.bind.clientRssMiB.toFixed(0)} MiB`],
      ['gateway CPU during the traffic step', `${g.cpuTrafficSec.toFixed(2)} s`],
      [
        'gateway log lines at warn or above',
        `${fmtInt(g.warnings)}${
          g.warnings
            ? ` (${Object.entries(g.warningsByMsg)
                .map(([k, v]) => `"${k}": ${v}`)
                .join(', ')})`
            : ''
        }`,
      ],
    ]),
  );
  const highest = Math.max(g.rssBoundMiB, g.rssSettledMiB, g.rssAfterTrafficMiB, g.peakDuringBindsMiB);
  out.push(
    `Target: gateway RSS < 250 MB (${r.target.rssLimitMiB.toFixed(1)} MiB) with ${fmtInt(r.bind.bound)} binds: ${r.target.met ? 'met' : 'MISSED'} (highest reading ${highest.toFixed(1)} MiB)` +
      `; all ${fmtInt(r.config.binds)} bound: ${r.target.allBound ? 'yes' : `NO (${fmtInt(r.config.binds - r.bind.bound)} failed)`}`,
  );
  return out.join('\n');
}
