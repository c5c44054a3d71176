// The load generator's summary: latency percentiles, throughput and the ok verdict computed from a
// run's totals, and the key a failure is counted under in `errors`.
import { GatewayError } from '../errors.js';
import { BindError, SmppError } from '../smpp/errors.js';
import type { LoadSummary, Opts } from './load-types.js';
import { percentiles, round2, statusKey, type Percentiles } from './util.js';

/** A run's totals at its end, as summarize() reads them. */
export interface RunTotals {
  sent: number;
  acked: number;
  /** Responses received; the first `responded` entries of `latency` are set. */
  responded: number;
  errors: Record<string, number>;
  latency: Float64Array;
  /** The first `dlrsMatched` entries are set. */
  dlrLatency: Float64Array;
  dlrs: number;
  dlrsMatched: number;
  dlrStats: Record<string, number>;
  mos: number;
  firstSentAt: number | undefined;
  lastRespAt: number | undefined;
}

/** The summary of a run with options `o`, its totals `t` and its binds' `reconnects`. */
export function summarize(o: Opts, t: RunTotals, reconnects: number): LoadSummary {
  const elapsed = t.firstSentAt !== undefined && t.lastRespAt !== undefined ? t.lastRespAt - t.firstSentAt : 0;
  const dlrsUnmatched = t.dlrs - t.dlrsMatched;
  const errorCount = Object.values(t.errors).reduce((a, b) => a + b, 0);
  const ok = t.sent === o.count && t.acked === o.count && errorCount === 0 && (!o.dlr || (t.dlrsMatched === t.acked && dlrsUnmatched === 0));
  const s: LoadSummary = {
    requested: o.count,
    sent: t.sent,
    acked: t.acked,
    errors: { ...t.errors },
    dlrs: t.dlrs,
    dlrsMatched: t.dlrsMatched,
    dlrsUnmatched,
    dlrStats: { ...t.dlrStats },
    latencyMs: percentiles(t.latency, t.responded),
    ...(o.dlr ? { dlrLatencyMs: dlrPercentiles(t.dlrLatency, t.dlrsMatched) } : {}),
    elapsedMs: round2(elapsed),
    msgsPerSec: elapsed > 0 ? Math.round((t.sent / elapsed) * 1000 * 10) / 10 : 0,
    mos: t.mos,
    reconnects,
    ok,
  };
  return s;
}

export function dlrPercentiles(values: Float64Array, n: number): Omit<Percentiles, 'max'> {
  const { p50, p95, p99 } = percentiles(values, n);
  return { p50, p95, p99 };
}

/** How a failure is counted in `errors`: the status of a generic_nack, else the error's code. */
export function errorKey(err: Error): string {
  if (err instanceof BindError) return `SMPP_BIND_FAILED ${statusKey(err.status)}`;
  if (err instanceof SmppError && err.code === 'SMPP_STATUS') return statusKey(err.status);
  if (err instanceof GatewayError) return err.code;
  return (err as NodeJS.ErrnoException).code ?? 'ERROR';
}
