// Carrier faults end to end: load tool → gateway (child process, SQLite on disk) → SMSC simulator
// misbehaving on purpose: throttling, temporary and permanent error statuses, responses that never
// come, connections cut with the window outstanding, binds refused for a while (and for ever), and
// all of them at once. For every case:
//   - the gateway acks every message (carrier trouble is its problem, not the account's);
//   - every acked message gets exactly one receipt at the account, in a final state: DELIVRD from
//     the carrier, or UNDELIV / REJECTD / EXPIRED written by the gateway; none missing, none twice;
//   - the ledger agrees with the receipts, state for state, and no message is left queued (0) or
//     enroute (1) once its validity has passed;
//   - what the carrier saw twice (sim.summary().duplicates) is counted and printed.
// Validity is a few seconds (messages.defaultValidityMs), so expiry is part of the matrix.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { runLoad, type LoadSummary } from '../../src/sim/load.js';
import { SmscSimulator, type SmscSimOptions, type SmscSummary } from '../../src/sim/smsc.js';
import { seededRandom } from '../../src/sim/util.js';
import { CLI, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';

const ESME = { systemId: 'acme', password: 'acme123' };
const RULES = fileURLToPath(new URL('../../../config/smsc-errors.yaml', import.meta.url));
/** messages.defaultValidityMs for the matrix. */
const VALIDITY_MS = 5_000;
/** The gateway's response timeout towards the carrier (and everyone): dropped answers cost this much. */
const RESPONSE_TIMEOUT_MS = 1_000;
/** messages.sweepMs: how often messages past their validity (queued, or enroute without a receipt) are ended. */
const SWEEP_MS = 500;
const FINAL_STATS = new Set(['DELIVRD', 'UNDELIV', 'REJECTD', 'EXPIRED']);
/** Ledger states (src/dlr/receipt.ts MessageState) as receipt stat words. */
const STAT_OF_STATE: Record<number, string> = {
  0: 'QUEUED',
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
};

interface FaultCase {
  name: string;
  sim: SmscSimOptions;
  env?: NodeJS.ProcessEnv;
  count?: number;
  validityMs?: number;
  /** How long the load tool waits for receipts after its last response (default validity + 8 s). */
  receiptWaitMs?: number;
  /** The fault really happened (the simulator's counters say so). */
  happened(sim: SmscSummary): void;
}

interface Outcome {
  load: LoadSummary;
  sim: SmscSummary;
  /** Ledger rows by stat word (QUEUED, ENROUTE, DELIVRD, …) once every validity has passed (or all are final). */
  ledger: Record<string, number>;
  /** Rows still queued or enroute then, with what the ledger knows of them. */
  stuck: Array<{ id: number; state: number; attempts: number; expires_at: number; connector: string | null }>;
  /** Carrier receipts the gateway could not match (ids it never learned: submits taken unanswered). */
  parked: number;
  outbox: Record<string, number>;
  ms: number;
}

/**
 * An operator command against `db`, without blocking this process: the simulators of the cases
 * running meanwhile live here, and a second of spawnSync is a second they answer nothing.
 */
async function admin(db: string, ...args: string[]): Promise<void> {
  await promisify(execFile)(process.execPath, [CLI, ...args, '--db', db], { timeout: 20_000 });
}

function readLedger(db: string): { byStat: Record<string, number>; stuck: Outcome['stuck']; parked: number; lastExpiry: number } {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const byStat: Record<string, number> = {};
    for (const r of d.prepare('SELECT state, COUNT(*) AS n FROM messages GROUP BY state').all() as Array<{ state: number; n: number }>)
      byStat[STAT_OF_STATE[r.state] ?? String(r.state)] = r.n;
    const stuck = d.prepare('SELECT id, state, attempts, expires_at, connector FROM messages WHERE state < 2 ORDER BY id LIMIT 20').all() as Outcome['stuck'];
    const lastExpiry = (d.prepare('SELECT MAX(expires_at) AS t FROM messages').get() as { t: number | null }).t ?? 0;
    const parked = (d.prepare('SELECT COUNT(*) AS n FROM parked_receipts').get() as { n: number }).n;
    return { byStat, stuck, parked, lastExpiry };
  } finally {
    d.close();
  }
}

/** One case: a fresh simulator and gateway, N messages with receipts, then the ledger once every validity has passed. */
async function runCase(c: FaultCase): Promise<Outcome> {
  const started = Date.now();
  const count = c.count ?? 300;
  const validityMs = c.validityMs ?? VALIDITY_MS;
  const tmp = tempDir('smppgw-faults-');
  const sim = new SmscSimulator({ dlrDelayMs: 50, random: seededRandom(42), ...c.sim });
  let gw: GatewayProcess | undefined;
  let outcome: Outcome;
  // Whatever fails, the gateway and the simulator are stopped: a listening simulator left behind
  // would keep this file's process alive.
  try {
    const { port } = await sim.start();
    const db = `${tmp.dir}/gw.db`;
    await admin(db, 'init');
    await admin(db, 'account', 'add', ESME.systemId, '--password', ESME.password, '--window', '100');
    await admin(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(port), '--system-id', 'gw', '--password', 'pw', '--window', '20');
    await admin(db, 'route', 'add', 'mt', '--connector', 'sim');
    gw = await startGateway(db, [], {
      SMPPGW_SMSC__RULESFILE: RULES,
      SMPPGW_SMSC__RETRYBASEMS: '50',
      SMPPGW_SMSC__RETRYMAXMS: '200',
      SMPPGW_SMSC__MAXATTEMPTS: '5',
      SMPPGW_MESSAGES__DEFAULTVALIDITYMS: String(validityMs),
      SMPPGW_MESSAGES__SWEEPMS: String(SWEEP_MS),
      SMPPGW_SMPP__SESSION__RESPONSETIMEOUTMS: String(RESPONSE_TIMEOUT_MS),
      ...c.env,
    });
    // Bounded: every message should be final by its validity plus a retry and a response timeout.
    const load = await runLoad({ port: gw.smppPort, ...ESME, count, window: 50, dlr: true, timeoutMs: c.receiptWaitMs ?? validityMs + 8_000 });
    let l = readLedger(db);
    if (l.stuck.length > 0) {
      // Something is not final yet: look again once every message's validity and a sweep after it
      // have passed (and the commit of what the sweep ended).
      await new Promise((r) => setTimeout(r, Math.max(0, l.lastExpiry - Date.now()) + SWEEP_MS + 1_000));
      l = readLedger(db);
    }
    const status = await gw.status();
    outcome = { load, sim: sim.summary(), ledger: l.byStat, stuck: l.stuck, parked: l.parked, outbox: status.outbox, ms: Date.now() - started };
  } catch (err) {
    await gw?.kill();
    await sim.stop();
    tmp.cleanup();
    throw err;
  }
  const code = await gw.stop();
  await sim.stop();
  tmp.cleanup();
  assert.equal(code, 0, 'gateway exits 0 on SIGTERM');
  return outcome;
}

function line(name: string, o: Outcome): string {
  const s = o.load;
  const stuck = (o.ledger.QUEUED ?? 0) + (o.ledger.ENROUTE ?? 0);
  const sim = o.sim;
  return (
    `${name}: sent ${s.sent}, acked ${s.acked}, receipts ${s.dlrsMatched}/${s.dlrs} ${JSON.stringify(s.dlrStats)}, ledger ${JSON.stringify(o.ledger)}, stuck ${stuck}, ` +
    `carrier: submits ${sim.submits} ok ${sim.submitsOk} throttled ${sim.submitsThrottled} failed ${sim.submitsFailed} dropped ${sim.submitsDropped} lost ${sim.submitsLost} ` +
    `disconnects ${sim.disconnects} binds ${sim.binds} refused ${sim.bindsFailed}, duplicates at the carrier ${sim.duplicates}, ` +
    `carrier receipts created ${sim.receiptsCreated} sent ${sim.receiptsSent} acked ${sim.receiptsAcked}, parked unmatched at the gateway ${o.parked}, ${o.ms} ms`
  );
}

/** Every assertion the issue asks of every case. */
function checkEnds(o: Outcome, count: number): void {
  const s = o.load;
  assert.equal(s.sent, count, `all sent: ${JSON.stringify(s.errors)}`);
  assert.equal(s.acked, count, `all acked by the gateway: ${JSON.stringify(s.errors)}`);
  // Exactly one receipt per acked message: none missing (matched = acked), none twice or unknown.
  assert.equal(
    s.dlrsMatched,
    s.acked,
    `a receipt for every acked message: ${JSON.stringify({ dlrs: s.dlrs, stats: s.dlrStats, ledger: o.ledger, stuck: o.stuck })}`,
  );
  assert.equal(s.dlrsUnmatched, 0, 'no receipt twice, none for an unknown id');
  for (const stat of Object.keys(s.dlrStats)) assert.ok(FINAL_STATS.has(stat), `receipt stat ${stat} is final`);
  // The ledger says the same, state for state, and nothing is left queued or enroute.
  assert.deepEqual(o.stuck, [], 'no message queued or enroute after its validity');
  assert.deepEqual(o.ledger, s.dlrStats, 'the ledger agrees with the receipts the account got');
  assert.deepEqual(o.outbox, {}, 'no receipt left waiting in the outbox');
}

const CASES: FaultCase[] = [
  {
    // The connector has no rate of its own (tps 0), so slowing it down on 0x58 changes nothing: the
    // retry backoff alone spaces the tries. It has to outlast the carrier's one-second window, or
    // the tries run out and the throttled messages end UNDELIV (with 50..200 ms and 5 tries, half
    // of them do).
    name: 'throttling (ESME_RTHROTTLED above 150/s)',
    sim: { throttle: 150 },
    env: { SMPPGW_SMSC__RETRYBASEMS: '500', SMPPGW_SMSC__RETRYMAXMS: '2000' },
    happened: (sim) => assert.ok(sim.submitsThrottled > 0, 'the carrier throttled'),
  },
  {
    name: 'error statuses, temporary (0x14, 0x58, 0x08) and permanent (0x45, 0x0b)',
    sim: { errorRate: 0.3, errorStatuses: [0x14, 0x58, 0x08, 0x45, 0x0b] },
    happened: (sim) => {
      assert.ok(sim.submitsFailed > 0, 'the carrier answered errors');
      for (const st of ['0x14', '0x45']) assert.ok((sim.statuses[st] ?? 0) > 0, `${st} answered`);
    },
  },
  {
    name: 'dropped responses (10 % never answered: response timeout, rule noResponse)',
    sim: { dropRate: 0.1 },
    happened: (sim) => assert.ok(sim.submitsDropped > 0, 'the carrier left submits unanswered'),
  },
  {
    name: 'disconnect mid-window (every 40th submit taken unanswered, connection cut)',
    sim: { disconnectAfter: 40, disconnectMidWindow: true },
    happened: (sim) => assert.ok(sim.disconnects > 0 && sim.submitsLost > 0, 'the carrier cut connections with submits outstanding'),
  },
  {
    name: 'failed binds (the first 3 refused ESME_RBINDFAIL), then success',
    sim: { bindFailures: 3 },
    happened: (sim) => {
      assert.equal(sim.bindsFailed, 3, 'three binds refused');
      assert.ok(sim.binds >= 1, 'then bound');
    },
  },
  {
    // At 40/s with 50..200 ms retries most throttled messages run out of tries (UNDELIV); the cut
    // connections leave receipts the gateway cannot match (parked): those of the submits taken
    // unanswered, and the carrier's second copies of receipts whose deliver_sm_resp the cut lost.
    name: 'all at once',
    sim: {
      throttle: 40,
      errorRate: 0.15,
      errorStatuses: [0x14, 0x58, 0x08, 0x45],
      dropRate: 0.05,
      disconnectAfter: 60,
      disconnectMidWindow: true,
      bindFailures: 1,
      bindFailRate: 0.2,
    },
    validityMs: 8_000,
    happened: (sim) => {
      assert.ok(sim.submitsThrottled > 0 && sim.submitsFailed > 0 && sim.submitsDropped > 0, 'throttling, errors and drops happened');
      assert.ok(sim.disconnects > 0 && sim.submitsLost > 0, 'connections cut mid-window');
      assert.ok(sim.bindsFailed >= 1, 'binds refused');
    },
  },
];

// Cases run three at a time: most of their time is spent waiting (timeouts, reconnect backoff).
describe('carrier faults: every message ends final, with its one receipt', { concurrency: 3 }, () => {
  for (const c of CASES) {
    test(c.name, { timeout: 60_000 }, async (t) => {
      const o = await runCase(c);
      t.diagnostic(line(c.name, o));
      c.happened(o.sim);
      checkEnds(o, c.count ?? 300);
      // Duplicates towards the carrier are counted and printed, not judged: at least once is the
      // promise. They come from submits the carrier took without answering (submitsLost), and
      // from answers that arrive after the gateway's response timeout (a busy machine).
    });
  }

  // The connector never binds: its queued messages must still end EXPIRED at their validity (by
  // the sweep), with the receipt, not wait for the carrier to come back.
  test('a carrier refusing every bind past the validity: the queued messages end EXPIRED at their validity', { timeout: 60_000 }, async (t) => {
    const name = 'binds refused for ever (validity 2 s)';
    const o = await runCase({ name, sim: { bindFailRate: 1 }, count: 50, validityMs: 2_000, receiptWaitMs: 5_000, happened: () => undefined });
    t.diagnostic(line(name, o));
    assert.equal(o.sim.binds, 0, 'never bound');
    assert.ok(o.sim.bindsFailed >= 2);
    checkEnds(o, 50);
    assert.deepEqual(o.load.dlrStats, { EXPIRED: 50 });
  });
});
