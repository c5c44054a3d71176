// Crash-safety run (issue "Reliability", item 1): an ESME submits messages with receipts through a
// gateway child process that is SIGKILLed at random moments and restarted on the same SQLite file
// and ports, towards an in-process SMSC simulator. Afterwards: every message the gateway answered
// submit_sm_resp OK for must have reached the carrier and its receipt must have reached the ESME.
import { parseReceipt } from '../../src/dlr/receipt.js';
import { seededRandom } from '../../src/sim/util.js';
import { SmscSimulator, type SmscEvent } from '../../src/sim/smsc.js';
import { SmppClient } from '../../src/smpp/client.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import { cli, startGateway, tempDir, type GatewayProcess } from './gateway-process.js';
import { freePort } from './wait.js';

export interface CrashOptions {
  kills: number;
  messages: number;
  seed: number;
  /** Submits per second (the ESME's pace). */
  rate?: number;
  /** Submits in flight at most. */
  window?: number;
  /** How long to wait for the last receipts after sending and killing are over. */
  drainMs?: number;
  /** Progress lines (stderr in the script, t.diagnostic in the test). */
  progress?: (line: string) => void;
}

export interface CrashSummary {
  seed: number;
  kills: number;
  messages: number;
  /** submit_sm requests written (or queued on a session) by the ESME. */
  sent: number;
  /** submit_sm_resp OK. */
  acked: number;
  /** submit_sm_resp with an error status. */
  rejected: number;
  /** No response: the session died with it in flight (a kill); not resent. */
  unacked: number;
  /** ...of which the carrier still got the text (the gateway had committed it). */
  unackedReachedSmsc: number;
  /** Acked messages whose text never reached the simulator (must be 0). */
  lost: number;
  /** Acked messages without a receipt at the ESME (must be 0); approximates receipts the gateway lost. */
  receiptsMissing: number;
  /** Same key accepted twice by the carrier. */
  duplicatesToSmsc: number;
  /** duplicatesToSmsc / unique keys at the carrier, in percent (target < 0.1). */
  duplicateRatePct: number;
  /** Receipts the ESME got more than once for one message id (extra copies). */
  duplicateReceiptsAtEsme: number;
  /** Receipts at the ESME for ids it was never given (unacked messages the gateway had committed). */
  receiptsForUnackedIds: number;
  receiptsAtEsme: number;
  smsc: { submitsOk: number; uniqueKeys: number; duplicates: number; receiptsAcked: number };
  restartMsAvg: number;
  durationMs: number;
  /** Examples, for a failing run. */
  lostExamples: number[];
  missingReceiptExamples: string[];
}

const ESME = { systemId: 'acme', password: 'acme123' };
const SOURCE = 'CRASH';
// The default durability (store.synchronous full), as shipped.
const ENV = { SMPPGW_SMSC__RETRYBASEMS: '50', SMPPGW_SMSC__RETRYMAXMS: '200', SMPPGW_STORE__SYNCHRONOUS: 'full' };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

const destOf = (n: number) => String(491700000000 + n);
const textOf = (n: number) => `crash test #${n}`;
const keyOf = (n: number) => `${SOURCE}\u0000${destOf(n)}\u0000${textOf(n)}`;

export async function crashRun(o: CrashOptions): Promise<CrashSummary> {
  const started = Date.now();
  const random = seededRandom(o.seed);
  const rate = o.rate ?? 400;
  const windowSize = o.window ?? 20;
  const drainMs = o.drainMs ?? 30_000;
  const say = o.progress ?? (() => undefined);

  const tmp = tempDir('smppgw-crash-');
  const db = `${tmp.dir}/gw.db`;
  const sim = new SmscSimulator({ dlrDelayMs: 50, window: 50 });
  // Keys the carrier accepted (the simulator's own `keys` map has them too; the event is the contract).
  const atSmsc = new Map<string, number>();
  sim.on('submit', (ev: Extract<SmscEvent, { type: 'submit' }>) => {
    if (ev.outcome === 'accepted') atSmsc.set(ev.key, (atSmsc.get(ev.key) ?? 0) + 1);
  });
  await sim.start();

  let gw: GatewayProcess | undefined;
  let client: SmppClient | undefined;
  const restartMs: number[] = [];
  try {
    cli(db, 'init');
    cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password, '--window', '100');
    cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'pw', '--window', '50');
    cli(db, 'route', 'add', 'mt', '--connector', 'sim');
    const smppPort = await freePort();
    const httpPort = await freePort();
    const args = ['--port', String(smppPort), '--http-port', String(httpPort)];
    const launch = async (): Promise<GatewayProcess> => {
      const t0 = Date.now();
      let lastErr: unknown;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const g = await startGateway(db, args, ENV);
          if (g.smppPort !== smppPort) throw new Error(`gateway listens on ${g.smppPort}, not ${smppPort}`);
          restartMs.push(Date.now() - t0);
          return g;
        } catch (err) {
          lastErr = err;
          await sleep(200);
        }
      }
      throw lastErr;
    };
    gw = await launch();

    // ---- the ESME ---------------------------------------------------------------------------
    const receipts = new Map<string, number>();
    let receiptsAtEsme = 0;
    client = new SmppClient({
      host: '127.0.0.1',
      port: smppPort,
      bind: { command: 'bind_transceiver', system_id: ESME.systemId, password: ESME.password },
      session: { enquireLinkMs: 0, window: windowSize, responseTimeoutMs: 5_000 },
      backoff: { initialMs: 50, maxMs: 500 },
      connectTimeoutMs: 2_000,
      random,
      handlers: {
        request: (pdu: Pdu) => {
          if (pdu.command === 'deliver_sm') {
            const r = parseReceipt(pdu);
            if (r) {
              receiptsAtEsme++;
              receipts.set(r.id, (receipts.get(r.id) ?? 0) + 1);
            }
          }
          return {};
        },
      },
    });
    client.start();

    const ackedId = new Map<number, string>(); // message number -> message_id
    let sent = 0;
    let rejected = 0;
    let unacked = 0;
    const unackedNs: number[] = [];
    let inflight = 0;
    let slotFreed: (() => void) | undefined;
    const c = client;
    const sendOne = async (n: number): Promise<void> => {
      try {
        const session = await withTimeout(c.whenBound(), 30_000, 'ESME bound');
        sent++;
        const resp = await session.request({
          command: 'submit_sm',
          source_addr_ton: 5,
          source_addr_npi: 0,
          source_addr: SOURCE,
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: destOf(n),
          registered_delivery: 1,
          data_coding: 0,
          short_message: Buffer.from(textOf(n)),
        });
        if (resp.command_status === 0) ackedId.set(n, resp.message_id);
        else rejected++;
      } catch (err) {
        if ((err as Error).message.startsWith('ESME bound')) throw err;
        unacked++;
        unackedNs.push(n);
      }
    };
    let sendError: unknown;
    let kills = 0;
    const sending = (async () => {
      const all: Array<Promise<void>> = [];
      const interval = 1000 / rate;
      let nextAt = Date.now();
      for (let n = 1; n <= o.messages && sendError === undefined; n++) {
        while (inflight >= windowSize) await new Promise<void>((r) => (slotFreed = r));
        const wait = nextAt - Date.now();
        if (wait > 0) await sleep(wait);
        // After a pause (a restart) do not burst to catch up.
        nextAt = Math.max(nextAt + interval, Date.now() - 50);
        inflight++;
        all.push(
          sendOne(n)
            .catch((err) => (sendError ??= err))
            .finally(() => {
              inflight--;
              const f = slotFreed;
              slotFreed = undefined;
              f?.();
            }),
        );
        if (n % 1000 === 0) say(`sent ${n}/${o.messages}, acked ${ackedId.size}, kills so far ${kills}`);
      }
      await Promise.all(all);
      if (sendError !== undefined) throw sendError;
    })();

    // ---- the killer -------------------------------------------------------------------------
    const meanGap = ((o.messages / rate) * 1000) / (o.kills + 1);
    const killing = (async () => {
      for (let k = 0; k < o.kills; k++) {
        await sleep(Math.max(150, meanGap * (0.3 + 1.4 * random())));
        await gw!.kill();
        kills++;
        gw = await launch();
      }
    })();

    await Promise.all([sending, killing]);
    say(`sending done: sent ${sent}, acked ${ackedId.size}, unacked ${unacked}, kills ${kills}`);

    // ---- drain: every acked message at the carrier and its receipt at the ESME ------------------
    const acked = [...ackedId.entries()];
    const done = () => acked.every(([n, id]) => atSmsc.has(keyOf(n)) && receipts.has(id));
    const until = Date.now() + drainMs;
    while (!done() && Date.now() < until) await sleep(50);
    // A little more, so late duplicates (receipts, carrier resends) are counted too.
    await sleep(300);

    const lostNs = acked.filter(([n]) => !atSmsc.has(keyOf(n))).map(([n]) => n);
    const missing = acked.filter(([, id]) => !receipts.has(id)).map(([, id]) => id);
    const ackedIds = new Set(ackedId.values());
    let duplicateReceipts = 0;
    let unknown = 0;
    for (const [id, count] of receipts) {
      duplicateReceipts += count - 1;
      if (!ackedIds.has(id)) unknown++;
    }
    const s = sim.summary();
    const uniqueKeys = sim.keys.size;
    return {
      seed: o.seed,
      kills,
      messages: o.messages,
      sent,
      acked: acked.length,
      rejected,
      unacked,
      unackedReachedSmsc: unackedNs.filter((n) => atSmsc.has(keyOf(n))).length,
      lost: lostNs.length,
      receiptsMissing: missing.length,
      duplicatesToSmsc: s.duplicates,
      duplicateRatePct: uniqueKeys > 0 ? Math.round((s.duplicates / uniqueKeys) * 100_000) / 1000 : 0,
      duplicateReceiptsAtEsme: duplicateReceipts,
      receiptsForUnackedIds: unknown,
      receiptsAtEsme,
      smsc: { submitsOk: s.submitsOk, uniqueKeys, duplicates: s.duplicates, receiptsAcked: s.receiptsAcked },
      restartMsAvg: Math.round(restartMs.reduce((a, b) => a + b, 0) / Math.max(1, restartMs.length)),
      durationMs: Date.now() - started,
      lostExamples: lostNs.slice(0, 10),
      missingReceiptExamples: missing.slice(0, 10),
    };
  } finally {
    await client?.close(1_000).catch(() => undefined);
    if (gw) await gw.stop().catch(() => undefined);
    await sim.stop().catch(() => undefined);
    tmp.cleanup();
  }
}
