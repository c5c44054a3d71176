// What a gateway fuzz run is asked (GatewayFuzzOptions) and what it reports (GatewayFuzzSummary),
// with the empty summary a run starts from and the recorder of anomalies.
import type { GatewayStatus } from '../../../src/status.js';
import { bump } from './shared.js';

export interface GatewayFuzzOptions {
  /** Units to send over all sessions. */
  count: number;
  seed: number;
  /** ESME connections fuzzing at once (default 2). */
  sessions?: number;
  /** Requests outstanding per connection (default 50). */
  window?: number;
  /** Stop sending after this long (reported as stoppedEarly; default none). */
  timeLimitMs?: number;
  /** One MO from the simulator per this many units (default 25; 0: none). */
  moEvery?: number;
  /** One request from the hostile carrier per this many units (default 20; 0: none). */
  carrierEvery?: number;
  /** The gateway's log level (default info). */
  logLevel?: string;
  /** store.synchronous of the gateway (default normal). */
  synchronous?: 'normal' | 'full';
  /** After the last unit, how long queues and outboxes get to empty (default 20 s). */
  settleMs?: number;
  /** RSS sample and /healthz period (default 1 s). */
  sampleMs?: number;
  /** Units sent before the "before" RSS is taken (default min(count / 10, 20,000)). */
  warmupUnits?: number;
  /** Memory checks: growth from the warm-up sample to the end, and the largest sample. */
  maxRssGrowthMB?: number;
  maxRssMB?: number;
  /** A request unanswered this long is an anomaly (default 15 s). */
  stallMs?: number;
  /** Progress lines (about every `progressEvery` units, default 100,000). */
  onProgress?: (line: string) => void;
  progressEvery?: number;
  /** Keep the temp dir (its path is in the summary). */
  keepDir?: boolean;
  /** Known faults to look past (see SKIPPABLE). */
  skip?: readonly Skippable[];
}

/**
 * Known faults a run can look past, each found by this fuzzer: input classes left out, or a check
 * lifted (still counted in the summary).
 *   oversize-mt   no submit_sm or data_sm from the ESME at the 64 KiB limit (the submit_sm made of
 *                 a data_sm is larger than the limit, and so is a queued one after replace_sm)
 *   oversize-mo   no data_sm MO from a carrier at the 64 KiB limit (the deliver_sm made of it is larger)
 *   long-err      no receipt whose err: field has more digits than an integer column holds
 *   log-nel       raw U+0085, U+2028, U+2029 in a log line do not fail the run
 */
export const SKIPPABLE = ['oversize-mt', 'oversize-mo', 'long-err', 'log-nel'] as const;
export type Skippable = (typeof SKIPPABLE)[number];

export interface GatewayAnomaly {
  kind: string;
  connection: number;
  detail: string;
  /** The units concerned (or the last ones sent on the connection), hex, oldest first. */
  units: string[];
}

export interface GatewayFuzzSummary {
  seed: number;
  count: number;
  sent: number;
  bytes: number;
  sentByKind: Record<string, number>;
  fuzzMs: number;
  unitsPerSecond: number;
  totalMs: number;
  stoppedEarly: string | null;
  connections: number;
  /** Why fuzzing connections ended. */
  connectionEnds: Record<string, number>;
  /** Responses to requests lost because their connection ended first. */
  responsesLost: number;
  responses: number;
  responsesByStatus: Record<string, number>;
  responsesByCommand: Record<string, number>;
  /** Message ids the gateway acknowledged (submit_sm, data_sm, each accepted submit_multi destination). */
  acknowledged: number;
  deliverSm: {
    receipts: number;
    receiptsMatched: number;
    /** Receipts for an id never seen acknowledged (its response was lost with its connection). */
    receiptsUnknownId: number;
    mos: number;
    mosMatched: number;
    answered: Record<string, number>;
  };
  simulator: { mosSent: number; moStatuses: Record<string, number>; submits: number; receiptsCreated: number; receiptsAcked: number };
  carrier: {
    submits: number;
    submitAnswers: Record<string, number>;
    receiptsSent: number;
    requestsSent: number;
    /** Statuses the gateway answered the carrier's deliver_sm and data_sm with. */
    answers: Record<string, number>;
    cancels: number;
    replaces: number;
    binds: number;
  };
  hostileBinds: { attempts: number; statuses: Record<string, number> };
  rss: { beforeMB: number | null; afterMB: number | null; maxMB: number; samples: number };
  health: { checks: number; failures: number };
  gateway: { pid: number; aliveAtEnd: boolean; exitCode: number | null; exitSignal: string | null; stderr: string };
  /** The gateway's own view after settling. */
  status: GatewayStatus | null;
  /** A fresh ESME after the run: ten submits, their receipts, and the ids whose receipt did not come (with their ledger state). */
  finalCheck: { submitted: number; accepted: number; receipts: number; missing: string[]; missingStates?: string[] } | null;
  db: {
    integrity: string;
    foreignKeyViolations: number;
    messages: number;
    byState: Record<string, number>;
    outbox: number;
    parkedReceipts: number;
    acknowledgedMissing: number;
    sampleChecked: number;
    sampleMismatches: number;
    mismatchExamples: string[];
  } | null;
  logs: {
    lines: number;
    bytes: number;
    notJson: number;
    byLevel: Record<string, number>;
    /** Raw U+0085, U+2028, U+2029 (line breaks to some readers) inside a line. */
    rawLineBreaks: number;
    /** Raw C1 controls (U+0080..U+009F) and DEL inside a line: valid JSON, but terminal escapes. */
    rawControls: number;
    warnings: Record<string, number>;
    /** The first line of each warning. */
    firstWarnings: Record<string, string>;
    errors: Record<string, number>;
    samples: string[];
  };
  anomalyCount: number;
  anomaliesByKind: Record<string, number>;
  anomalies: GatewayAnomaly[];
  dir: string | null;
  failures: string[];
}

export type CarrierStats = GatewayFuzzSummary['carrier'];
export type LogCheck = GatewayFuzzSummary['logs'];
export type FinalCheck = NonNullable<GatewayFuzzSummary['finalCheck']>;
export type DbCheck = NonNullable<GatewayFuzzSummary['db']>;
/** Records a broken invariant (kept in full for the first few, counted for all). */
export type RecordAnomaly = (kind: string, connection: number, detail: string, units?: Buffer[]) => void;

const MAX_ANOMALIES = 30;

export function emptyCarrierStats(): CarrierStats {
  return { submits: 0, submitAnswers: {}, receiptsSent: 0, requestsSent: 0, answers: {}, cancels: 0, replaces: 0, binds: 0 };
}

export function emptyLogCheck(): LogCheck {
  return { lines: 0, bytes: 0, notJson: 0, byLevel: {}, rawLineBreaks: 0, rawControls: 0, warnings: {}, firstWarnings: {}, errors: {}, samples: [] };
}

export function emptySummary(options: GatewayFuzzOptions): GatewayFuzzSummary {
  return {
    seed: options.seed,
    count: options.count,
    sent: 0,
    bytes: 0,
    sentByKind: {},
    fuzzMs: 0,
    unitsPerSecond: 0,
    totalMs: 0,
    stoppedEarly: null,
    connections: 0,
    connectionEnds: {},
    responsesLost: 0,
    responses: 0,
    responsesByStatus: {},
    responsesByCommand: {},
    acknowledged: 0,
    deliverSm: { receipts: 0, receiptsMatched: 0, receiptsUnknownId: 0, mos: 0, mosMatched: 0, answered: {} },
    simulator: { mosSent: 0, moStatuses: {}, submits: 0, receiptsCreated: 0, receiptsAcked: 0 },
    carrier: emptyCarrierStats(),
    hostileBinds: { attempts: 0, statuses: {} },
    rss: { beforeMB: null, afterMB: null, maxMB: 0, samples: 0 },
    health: { checks: 0, failures: 0 },
    gateway: { pid: 0, aliveAtEnd: false, exitCode: null, exitSignal: null, stderr: '' },
    status: null,
    finalCheck: null,
    db: null,
    logs: emptyLogCheck(),
    anomalyCount: 0,
    anomaliesByKind: {},
    anomalies: [],
    dir: null,
    failures: [],
  };
}

export function anomalyRecorder(s: GatewayFuzzSummary): RecordAnomaly {
  return (kind, connection, detail, units = []) => {
    s.anomalyCount++;
    bump(s.anomaliesByKind, kind);
    if (s.anomalies.length < MAX_ANOMALIES) {
      // Hex of the units, cut at 4 KiB each: a 64 KiB unit would swamp the summary.
      s.anomalies.push({
        kind,
        connection,
        detail,
        units: units.map((u) => (u.length > 4096 ? `${u.subarray(0, 4096).toString('hex')}…(${u.length} bytes)` : u.toString('hex'))),
      });
    }
  };
}
