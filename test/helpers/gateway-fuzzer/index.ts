// The gateway fuzzer shared by test/e2e/fuzz-gateway.test.ts (bounded) and scripts/fuzz-gateway.ts
// (long runs): hostile input through the whole gateway, not just its protocol layer.
//
// One run sets up, in a temp dir:
//   - the SMSC simulator (in this process; receipts at once, MOs through sendMo with hostile texts),
//   - a hostile carrier (in this process, on the project's SmppServer): it answers submits with odd
//     message ids (case, leading zeros, other base, control characters, empty, reused), errors and
//     throttling, sends receipts before and after their submit_sm_resp with mangled ids, stat and
//     err fields, and pushes MOs and receipts (deliver_sm and data_sm) with hostile fields of its
//     own, up to the largest PDU the protocol allows;
//   - the gateway as a child process (`smppgw start`, its SQLite file in the temp dir), with an
//     account, both carriers as connectors, MT routes (catch-all, prefix, failover, weighted, a
//     source regex) and MO routes (short code, keyword, source prefix, connector);
// then binds as the account's ESME over `sessions` connections and sends `count` units, each
// connection keeping up to `window` requests outstanding. A unit is mostly a well-formed
// submit_sm, data_sm, submit_multi, query_sm, cancel_sm or replace_sm with hostile field values;
// some are built malformed by hand, some are mutated, some are other commands, and now and then
// one breaks the framing (the session ends: the connection binds again and goes on). Every
// deliver_sm the gateway sends (receipts, MOs) is checked and answered (mostly OK, sometimes with an
// error, a generic_nack or not at all). Failed binds with hostile credentials go on side connections.
//
// While it runs, the gateway's RSS is sampled (/proc/<pid>/status) and /healthz asked. At the end:
// a fresh ESME must still submit and get its receipts; queues settle; SIGTERM must exit 0; then,
// with the file opened read-only: PRAGMA integrity_check and foreign_key_check, every message id the
// gateway acknowledged is in the ledger, and a sample of the accepted messages is stored exactly
// as sent. Every line the gateway wrote on stdout must be one JSON object (pino), with no raw
// character that breaks a line.
//
// Invariants broken on the wire are Anomalies (kept with the hex of the units concerned); the run's
// verdict is `failures` (empty when every check held).
//
// This file is the runner; its parts, in this folder:
//   summary.ts       options, summary, known faults (SKIPPABLE), the anomaly recorder
//   setup.ts         the simulator, the gateway's account, connectors and routes, its settings
//   gateway-child.ts the gateway process: start, stdout check, RSS and /healthz sampling
//   carrier.ts       the hostile carrier
//   side-traffic.ts  simulator MOs and carrier requests paced by the units, and the MOs sent
//   field-values.ts, requests.ts, units.ts   what the ESMEs send
//   esme-session.ts, hostile-bind.ts, deliver-sm.ts, ledger.ts   the ESME connections and their checks
//   end-checks.ts    the final ESME, the database, the verdict
//   shared.ts        constants and small helpers
import { join } from 'node:path';
import { seededRandom } from '../../../src/sim/util.js';
import { tempDir } from '../gateway-process.js';
import { HostileCarrier } from './carrier.js';
import { DeliverSmCheck } from './deliver-sm.js';
import { runConnection, type FuzzRun } from './esme-session.js';
import { checkDb, finalCheck, missingStates, verdict, waitSettled } from './end-checks.js';
import { GatewayMonitor, type GatewayChild } from './gateway-child.js';
import { Ledger } from './ledger.js';
import { carriersBound, configureGateway, newSimulator, startFuzzedGateway } from './setup.js';
import { mb } from './shared.js';
import { MoKeys, SideTraffic } from './side-traffic.js';
import { anomalyRecorder, emptySummary, type GatewayFuzzOptions, type GatewayFuzzSummary, type Skippable } from './summary.js';
import { idsOfDb } from '../message-ids.js';

export { SKIPPABLE, type GatewayAnomaly, type GatewayFuzzOptions, type GatewayFuzzSummary, type Skippable } from './summary.js';

export async function runGatewayFuzz(options: GatewayFuzzOptions): Promise<GatewayFuzzSummary> {
  const t0 = performance.now();
  const sessions = Math.max(1, options.sessions ?? 2);
  const window = Math.max(1, options.window ?? 50);
  const moEvery = options.moEvery ?? 25;
  const carrierEvery = options.carrierEvery ?? 20;
  const settleMs = options.settleMs ?? 20_000;
  const sampleMs = options.sampleMs ?? 1_000;
  const stallMs = options.stallMs ?? 15_000;
  const warmupUnits = options.warmupUnits ?? Math.min(Math.floor(options.count / 10), 20_000);
  const progressEvery = options.progressEvery ?? 100_000;
  const timeLimit = options.timeLimitMs ?? Infinity;
  const skip = new Set<Skippable>(options.skip ?? []);

  const s = emptySummary(options);
  const anomaly = anomalyRecorder(s);
  const tmp = tempDir('smppgw-fuzzgw-');
  const db = join(tmp.dir, 'gw.db');
  const moKeys = new MoKeys();
  const sim = newSimulator(options.seed);
  const carrier = new HostileCarrier(seededRandom(options.seed ^ 0xca77), moKeys, skip);
  const ledger = new Ledger(seededRandom(options.seed));
  const deliveries = new DeliverSmCheck(s, ledger, moKeys, anomaly);
  let gw: GatewayChild | undefined;
  let monitor: GatewayMonitor | undefined;

  try {
    // ---- set-up ----
    const simPort = (await sim.start()).port;
    const carrierPort = await carrier.start();
    configureGateway(db, simPort, carrierPort, sessions, window);
    gw = await startFuzzedGateway(db, options);
    ledger.ids = idsOfDb(db);
    const g = gw;
    s.gateway.pid = g.pid;
    await carriersBound(sim, carrier);

    // ---- sampling: RSS and /healthz ----
    const mon = new GatewayMonitor(g, s, anomaly);
    monitor = mon;
    mon.start(sampleMs);

    // ---- fuzzing ----
    const started = performance.now();
    const side = new SideTraffic(options.seed, sim, carrier, moKeys, s, carrierEvery, moEvery);
    let reserved = 0;
    let nextConnection = 0;
    let nextProgress = progressEvery;
    let warmedUp = false;
    let connectFailuresInRow = 0;
    const stop = (reason: string): void => {
      s.stoppedEarly ??= reason;
    };
    const run: FuzzRun = {
      seed: options.seed,
      port: g.smppPort,
      window,
      stallMs,
      skip,
      s,
      ledger,
      deliveries,
      anomaly,
      finished: () => {
        if (s.stoppedEarly !== null) return true;
        if (!g.alive()) stop('the gateway exited');
        else if (performance.now() - started > timeLimit) stop(`time limit of ${timeLimit} ms reached`);
        return s.stoppedEarly !== null || reserved >= options.count;
      },
      reserve: () => {
        reserved++;
      },
      connectFailed: () => {
        if (++connectFailuresInRow >= 10) stop(`${connectFailuresInRow} connects in a row failed`);
      },
      connected: () => {
        connectFailuresInRow = 0;
      },
      unitSent: () => {
        side.paced(1);
        if (!warmedUp && s.sent >= warmupUnits) {
          warmedUp = true;
          const rss = mon.sampleRss();
          if (rss !== undefined) s.rss.beforeMB = mb(rss);
        }
        if (s.sent >= nextProgress) {
          nextProgress += progressEvery;
          const el = performance.now() - started;
          options.onProgress?.(
            `fuzz-gateway: ${s.sent} units, ${s.connections} connections, ${s.responses} responses, ${ledger.acknowledged.size} acknowledged, ${s.deliverSm.receipts} receipts, ${s.deliverSm.mos} MOs, ${s.anomalyCount} anomalies, ${Math.round(el)} ms, rss max ${mb(mon.rssMax)} MB`,
          );
        }
      },
    };
    await Promise.all(
      Array.from({ length: sessions }, async () => {
        while (!run.finished()) await runConnection(run, nextConnection++);
      }),
    );
    s.fuzzMs = Math.round(performance.now() - started);
    s.unitsPerSecond = s.fuzzMs > 0 ? Math.round((s.sent * 1000) / s.fuzzMs) : 0;

    // ---- settle, then a well-behaved ESME must still be served end to end ----
    if (g.alive()) {
      const onBad = (detail: string, raw: Buffer): void => anomaly('undecodable-pdu', -1, detail, [raw]);
      const settle = (): Promise<void> => waitSettled(g.httpPort, settleMs, (st) => (s.status = st));
      s.finalCheck = await finalCheck(g.smppPort, (pdu, raw) => deliveries.check(pdu, raw, -1), onBad, settle);
      const rss = mon.sampleRss();
      if (rss !== undefined) s.rss.afterMB = mb(rss);
    }
    s.rss.maxMB = mb(mon.rssMax);
    mon.stop();

    // ---- stop: SIGTERM must end it with 0 ----
    s.gateway.aliveAtEnd = g.alive();
    let killer: NodeJS.Timeout | undefined;
    if (g.alive()) {
      g.proc.kill('SIGTERM');
      killer = setTimeout(() => g.proc.kill('SIGKILL'), 30_000);
    }
    const e = await g.exited;
    clearTimeout(killer);
    s.gateway.exitCode = e.code;
    s.gateway.exitSignal = e.signal;
    s.gateway.stderr = g.stderr();
    s.logs = g.logs;

    // ---- the file ----
    s.db = checkDb(db, ledger.acknowledged, ledger.samples, ledger.replaced);
    if (s.finalCheck !== null && s.finalCheck.missing.length > 0) s.finalCheck.missingStates = missingStates(db, s.finalCheck.missing);
  } finally {
    monitor?.stop();
    if (gw?.alive()) {
      gw.proc.kill('SIGKILL');
      await gw.exited;
    }
    await carrier.stop().catch(() => undefined);
    await sim.stop().catch(() => undefined);
    const sum = sim.summary();
    s.simulator.submits = sum.submits;
    s.simulator.receiptsCreated = sum.receiptsCreated;
    s.simulator.receiptsAcked = sum.receiptsAcked;
    s.carrier = carrier.stats;
    s.acknowledged = ledger.acknowledged.size;
    const late = ledger.lateReceipts();
    s.deliverSm.receiptsMatched += late.matched;
    s.deliverSm.receiptsUnknownId += late.unknown;
    if (options.keepDir) s.dir = tmp.dir;
    else tmp.cleanup();
    s.totalMs = Math.round(performance.now() - t0);
  }
  s.failures = verdict(s, options);
  return s;
}
