// Hostile input through the whole gateway: 100,000 units (mostly well-formed submit_sm, data_sm,
// submit_multi, query_sm, cancel_sm and replace_sm with hostile field values; some malformed,
// mutated or framing-breaking) from bound ESME sessions, while the SMSC simulator and a hostile
// carrier send receipts and MOs back (test/helpers/gateway-fuzzer/). Then: the process is alive
// and exits 0 on SIGTERM, its memory bounded, the SQLite file intact with every acknowledged
// message stored as sent, every log line one JSON object, and a fresh ESME still served end to end.
// FUZZ_SEED (default 0x6a7e) and FUZZ_COUNT (default 100000) override the run; FUZZ_GW_SKIP
// (comma-separated, see SKIPPABLE) leaves out input classes; scripts/fuzz-gateway.ts runs the same
// engine for longer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SKIPPABLE, runGatewayFuzz, type Skippable } from '../helpers/gateway-fuzzer/index.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x6a7e);
const COUNT = Number(process.env.FUZZ_COUNT ?? 100_000);
const SKIP = (process.env.FUZZ_GW_SKIP ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean) as Skippable[];

test(`fuzz the gateway: ${COUNT} hostile units (seed ${SEED}) through routing, store and receipts`, { timeout: 115_000 }, async (t) => {
  for (const x of SKIP) assert.ok((SKIPPABLE as readonly string[]).includes(x), `FUZZ_GW_SKIP: ${x} is not one of ${SKIPPABLE.join(', ')}`);
  const s = await runGatewayFuzz({ count: COUNT, seed: SEED, timeLimitMs: 75_000, settleMs: 15_000, skip: SKIP });
  const report = {
    seed: s.seed,
    sent: s.sent,
    fuzzMs: s.fuzzMs,
    totalMs: s.totalMs,
    unitsPerSecond: s.unitsPerSecond,
    connections: s.connections,
    connectionEnds: s.connectionEnds,
    acknowledged: s.acknowledged,
    deliverSm: s.deliverSm,
    rss: s.rss,
    gateway: { aliveAtEnd: s.gateway.aliveAtEnd, exitCode: s.gateway.exitCode },
    db: s.db && {
      integrity: s.db.integrity,
      messages: s.db.messages,
      byState: s.db.byState,
      acknowledgedMissing: s.db.acknowledgedMissing,
      sampleChecked: s.db.sampleChecked,
      sampleMismatches: s.db.sampleMismatches,
    },
    logs: { lines: s.logs.lines, notJson: s.logs.notJson, rawLineBreaks: s.logs.rawLineBreaks, rawControls: s.logs.rawControls, errors: s.logs.errors },
    responsesByStatus: s.responsesByStatus,
    anomaliesByKind: s.anomaliesByKind,
  };
  t.diagnostic(JSON.stringify(report));
  console.log(`fuzz-gateway summary: ${JSON.stringify(report)}`);

  // Every check of the run held (process, exit code, memory, database, logs, anomalies, final ESME).
  assert.deepEqual(
    s.failures,
    [],
    `${s.failures.join('\n')}\nanomalies: ${JSON.stringify(s.anomalies.slice(0, 3))}\nlog samples: ${s.logs.samples.join('\n')}`,
  );

  // The run reached what it meant to: handlers of every kind, the ledger, receipts both ways, MOs, framing losses.
  assert.ok(s.connections >= 20, `only ${s.connections} connections`);
  assert.ok(
    (s.connectionEnds['framing (bad command_length)'] ?? 0) + (s.connectionEnds['framing (out of step)'] ?? 0) >= 5,
    `framing losses: ${JSON.stringify(s.connectionEnds)}`,
  );
  for (const status of [
    'ESME_ROK',
    'ESME_RINVEXPIRY',
    'ESME_RINVDSTADR',
    'ESME_RINVSRCADR',
    'ESME_RINVMSGID',
    'ESME_RQUERYFAIL',
    'ESME_RINVCMDLEN',
    'ESME_RINVTLVLEN',
    'ESME_RINVCMDID',
  ]) {
    assert.ok((s.responsesByStatus[status] ?? 0) > 0, `no ${status} response in the run`);
  }
  assert.ok(s.acknowledged >= COUNT / 5, `only ${s.acknowledged} messages acknowledged`);
  assert.ok(s.deliverSm.receiptsMatched >= s.acknowledged / 4, `only ${s.deliverSm.receiptsMatched} receipts matched`);
  assert.ok(s.deliverSm.mosMatched > 0 && s.deliverSm.mosMatched === s.deliverSm.mos, `MOs: ${JSON.stringify(s.deliverSm)}`);
  assert.ok(s.carrier.receiptsSent > 0 && s.carrier.requestsSent > 0, `hostile carrier: ${JSON.stringify(s.carrier)}`);
  assert.ok(s.db !== null && s.db.sampleChecked >= 100, `only ${s.db?.sampleChecked} sampled messages checked`);
});
