// The end checks of a run: the queues settle; a fresh ESME must still submit and get its receipts;
// the SQLite file, opened read-only once the gateway stopped, passes PRAGMA integrity_check and
// foreign_key_check, holds every message id the gateway acknowledged and a sample of the accepted
// messages exactly as sent; then the verdict: every check that failed, in words.
import type { GatewayStatus } from '../../../src/status.js';
import Database from 'better-sqlite3';
import net from 'node:net';
import { decode, encode } from '../../../src/smpp/codec.js';
import { Framer } from '../../../src/smpp/framer.js';
import type { Pdu, PduInput, PduOf } from '../../../src/smpp/pdu.js';
import { httpGet } from './gateway-child.js';
import type { StoredSample } from './ledger.js';
import { ACCOUNT, MAX_PDU, MB, accountBind, answerLinkRequest, receiptedId, sleep, waitSocket } from './shared.js';
import type { DbCheck, FinalCheck, GatewayFuzzOptions, GatewayFuzzSummary } from './summary.js';
import { idsOfDb, rowOf } from '../message-ids.js';

// ---- on the wire ----

/**
 * After the fuzzing: a fresh transceiver binds, waits for the queues to settle (answering every
 * deliver_sm OK, so that outboxes drain), then submits ten ordinary messages asking for receipts:
 * each must be accepted and its receipt come back.
 */
export async function finalCheck(
  port: number,
  seen: (pdu: PduOf<'deliver_sm'>, raw: Buffer) => void,
  bad: (detail: string, raw: Buffer) => void,
  settle: () => Promise<void>,
): Promise<FinalCheck> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  const result: FinalCheck = { submitted: 0, accepted: 0, receipts: 0, missing: [] };
  if ((await waitSocket(socket, 'connect', 5_000)) !== 'event') return result;
  const framer = new Framer(16 * MB);
  const waiting = new Map<number, (pdu: Pdu) => void>();
  const ids = new Set<string>();
  const receiptIds = new Set<string>();
  socket.on('data', (chunk: Buffer) => {
    framer.push(chunk, (buf, start, length) => {
      const raw = Buffer.from(buf.subarray(start, start + length));
      let pdu: Pdu;
      try {
        pdu = decode(raw, 0, 16 * MB);
      } catch (err) {
        bad(`after the run: ${(err as Error).message}`, raw);
        return;
      }
      if (length > MAX_PDU) bad(`after the run: the gateway sent a PDU of ${length} bytes, above the 64 KiB limit`, raw.subarray(0, 64));
      if (pdu.command === 'deliver_sm') {
        seen(pdu, raw);
        const id = receiptedId(pdu);
        // A receipt may be read in the same chunk as its submit_sm_resp, before the id is known here.
        if (id !== undefined) receiptIds.add(id);
        socket.write(encode({ command: 'deliver_sm_resp', sequence_number: pdu.sequence_number, message_id: '' }));
      } else if (!answerLinkRequest(socket, pdu)) {
        waiting.get(pdu.sequence_number)?.(pdu);
        waiting.delete(pdu.sequence_number);
      }
    });
  });
  const request = (pdu: PduInput): Promise<Pdu | undefined> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 10_000);
      waiting.set(pdu.sequence_number, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
      socket.write(encode(pdu));
    });
  try {
    const bind = await request(accountBind('bind_transceiver'));
    if (bind?.command_status !== 0) return result;
    await settle();
    for (let i = 0; i < 10; i++) {
      result.submitted++;
      const r = await request({
        command: 'submit_sm',
        sequence_number: 100 + i,
        source_addr: '12345',
        destination_addr: `4915100000${i}`,
        registered_delivery: 1,
        short_message: Buffer.from(`after the fuzz ${i}`),
      });
      if (r?.command === 'submit_sm_resp' && r.command_status === 0) {
        result.accepted++;
        ids.add(r.message_id);
      }
    }
    const missing = (): string[] => [...ids].filter((id) => !receiptIds.has(id));
    for (let i = 0; i < 300 && missing().length > 0; i++) await sleep(50);
    result.missing = missing();
    result.receipts = ids.size - result.missing.length;
    await request({ command: 'unbind', sequence_number: 999 });
  } finally {
    socket.destroy();
  }
  return result;
}

/**
 * Waits until the gateway has settled: nothing queued or in flight towards a carrier, outboxes
 * empty (or `ms` is up). Every /status read is handed to `onStatus` (null when it failed).
 */
export async function waitSettled(httpPort: number, ms: number, onStatus: (status: GatewayStatus | null) => void): Promise<void> {
  const until = performance.now() + ms;
  for (;;) {
    const st = await httpGet(httpPort, '/status').then(
      (r) => JSON.parse(r.body) as GatewayStatus,
      () => null,
    );
    onStatus(st);
    const conns = Object.values((st?.connectors ?? {}) as Record<string, { queued: number; inFlight: number }>);
    const idle = st !== null && conns.every((c) => c.queued === 0 && c.inFlight === 0) && Object.keys((st.outbox ?? {}) as object).length === 0;
    if (idle || performance.now() > until) return;
    await sleep(250);
  }
}

// ---- the file ----

/** The SQLite file after the gateway stopped, opened read-only. */
export function checkDb(path: string, acknowledged: ReadonlySet<number>, samples: readonly StoredSample[], replaced: ReadonlySet<number>): DbCheck {
  const d = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = (d.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
    const foreignKeyViolations = (d.pragma('foreign_key_check') as unknown[]).length;
    const byState: Record<string, number> = {};
    let messages = 0;
    for (const r of d.prepare('SELECT state, COUNT(*) AS n FROM messages GROUP BY state').all() as Array<{ state: number; n: number }>) {
      byState[String(r.state)] = r.n;
      messages += r.n;
    }
    const outbox = (d.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    const parkedReceipts = (d.prepare('SELECT COUNT(*) AS n FROM parked_receipts').get() as { n: number }).n;
    const has = d.prepare('SELECT 1 FROM messages WHERE id = ?').pluck();
    let acknowledgedMissing = 0;
    for (const id of acknowledged) if (has.get(id) === undefined) acknowledgedMissing++;
    // Stored exactly as sent: addresses in their columns, and the PDU blob.
    const row = d.prepare(
      'SELECT a.system_id AS account, source_addr, dest_addr, registered_delivery, pdu FROM messages JOIN accounts a ON a.id = messages.account_id WHERE messages.id = ?',
    );
    let sampleChecked = 0;
    let sampleMismatches = 0;
    const mismatchExamples: string[] = [];
    for (const { id, expect } of samples) {
      if (replaced.has(id)) continue;
      const r = row.get(id) as { account: string; source_addr: string; dest_addr: string; registered_delivery: number; pdu: Buffer } | undefined;
      if (r === undefined) continue; // counted in acknowledgedMissing
      sampleChecked++;
      const stored = decode(r.pdu) as PduOf<'submit_sm'>;
      const diffs: string[] = [];
      if (r.account !== ACCOUNT.systemId) diffs.push(`account ${JSON.stringify(r.account)}`);
      if (r.source_addr !== expect.source_addr) diffs.push(`source_addr column ${JSON.stringify(r.source_addr)} ≠ ${JSON.stringify(expect.source_addr)}`);
      if (r.dest_addr !== expect.destination_addr) diffs.push(`dest_addr column ${JSON.stringify(r.dest_addr)} ≠ ${JSON.stringify(expect.destination_addr)}`);
      if (r.registered_delivery !== expect.registered_delivery)
        diffs.push(`registered_delivery column ${r.registered_delivery} ≠ ${expect.registered_delivery}`);
      for (const k of Object.keys(expect) as Array<keyof PduOf<'submit_sm'>>) {
        if (k === 'sequence_number' || k === 'command_status') continue;
        const a = JSON.stringify(stored[k] ?? null);
        const b = JSON.stringify(expect[k] ?? null);
        if (a !== b) diffs.push(`pdu ${k} ${a.slice(0, 80)} ≠ ${b.slice(0, 80)}`);
      }
      if (diffs.length > 0) {
        sampleMismatches++;
        if (mismatchExamples.length < 5) mismatchExamples.push(`message ${id}: ${diffs.join('; ')}`);
      }
    }
    return {
      integrity,
      foreignKeyViolations,
      messages,
      byState,
      outbox,
      parkedReceipts,
      acknowledgedMissing,
      sampleChecked,
      sampleMismatches,
      mismatchExamples,
    };
  } finally {
    d.close();
  }
}

/** The ledger rows of messages whose receipt the final check did not get (JSON, null when absent). */
export function missingStates(path: string, ids: readonly string[]): string[] {
  const d = new Database(path, { readonly: true });
  try {
    const q = d.prepare('SELECT id, state, connector, smsc_id, attempts, error FROM messages WHERE id = ?');
    const gatewayIds = idsOfDb(path);
    return ids.map((id) => JSON.stringify(q.get(rowOf(gatewayIds, id)) ?? null));
  } finally {
    d.close();
  }
}

// ---- the verdict ----

/** What must hold for a run to pass. */
export function verdict(s: GatewayFuzzSummary, o: GatewayFuzzOptions): string[] {
  const f: string[] = [];
  const growthLimit = o.maxRssGrowthMB ?? 150;
  const maxLimit = o.maxRssMB ?? 600;
  if (s.stoppedEarly !== null) f.push(`the run stopped early: ${s.stoppedEarly}`);
  if (s.sent < s.count) f.push(`sent ${s.sent} of ${s.count} units`);
  if (!s.gateway.aliveAtEnd)
    f.push(`the gateway died during the run (exit ${s.gateway.exitCode}, signal ${s.gateway.exitSignal}): ${s.gateway.stderr.slice(-2000)}`);
  else if (s.gateway.exitCode !== 0)
    f.push(`the gateway exited ${s.gateway.exitCode} (signal ${s.gateway.exitSignal}) on SIGTERM: ${s.gateway.stderr.slice(-2000)}`);
  if (s.anomalyCount > 0) f.push(`${s.anomalyCount} anomalies: ${JSON.stringify(s.anomaliesByKind)}`);
  if ((s.responsesByStatus.ESME_RSYSERR ?? 0) > 0) f.push(`${s.responsesByStatus.ESME_RSYSERR} requests answered ESME_RSYSERR (a handler failed)`);
  if (s.health.failures > 0) f.push(`/healthz failed ${s.health.failures} of ${s.health.checks} times`);
  if (s.rss.beforeMB !== null && s.rss.afterMB !== null && s.rss.afterMB - s.rss.beforeMB > growthLimit)
    f.push(`RSS grew ${(s.rss.afterMB - s.rss.beforeMB).toFixed(1)} MB (limit ${growthLimit})`);
  if (s.rss.maxMB > maxLimit) f.push(`RSS reached ${s.rss.maxMB} MB (limit ${maxLimit})`);
  if (s.rss.beforeMB === null || s.rss.afterMB === null) f.push('RSS not measured before and after');
  const fc = s.finalCheck;
  if (fc === null || fc.accepted !== fc.submitted || fc.receipts !== fc.accepted || fc.submitted === 0)
    f.push(`after the run, a fresh ESME was not served end to end: ${JSON.stringify(fc)}`);
  const db = s.db;
  if (db === null) f.push('the database was not checked');
  else {
    if (db.integrity !== 'ok') f.push(`PRAGMA integrity_check: ${db.integrity}`);
    if (db.foreignKeyViolations > 0) f.push(`${db.foreignKeyViolations} foreign key violations`);
    if (db.acknowledgedMissing > 0) f.push(`${db.acknowledgedMissing} acknowledged messages missing from the ledger`);
    if (db.sampleMismatches > 0)
      f.push(`${db.sampleMismatches} of ${db.sampleChecked} sampled messages not stored as sent: ${db.mismatchExamples.join(' | ')}`);
    if ((db.byState['0'] ?? 0) > 0) f.push(`${db.byState['0']} messages still queued in the gateway after settling`);
  }
  if (s.logs.lines === 0) f.push('no log lines seen');
  if (s.logs.notJson > 0) f.push(`${s.logs.notJson} stdout lines are not JSON objects`);
  if (s.logs.rawLineBreaks > 0 && !o.skip?.includes('log-nel')) f.push(`${s.logs.rawLineBreaks} log lines carry a raw U+0085/U+2028/U+2029`);
  const errors = Object.entries(s.logs.errors);
  if (errors.length > 0) f.push(`error log lines: ${JSON.stringify(s.logs.errors)}`);
  return f;
}
