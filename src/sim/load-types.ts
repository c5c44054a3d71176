// The load generator's shapes: the options runLoad() takes (and the same with every default
// filled in, as the run and its binds read them), the summary it resolves with, and the exit code
// `smppgw load` derives from that summary. src/sim/load.ts re-exports the public ones; other code
// imports them from there.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Percentiles } from './util.js';

export interface LoadOptions {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  /** Messages to send in all. */
  count: number;
  /** Outstanding submit_sm per bind (default 10). */
  window?: number;
  /** Messages per second over all binds (default 0: as fast as the windows allow). */
  rate?: number;
  /** Binds that send (default 1). */
  binds?: number;
  /** Ask for receipts (registered_delivery 1) and wait for them. */
  dlr?: boolean;
  /** source_addr (default SMPPGW). */
  source?: string;
  /** destination_addr, or a range FROM..TO walked in order (default 4917000000..4917099999). */
  dest?: string;
  /** Message text; `{n}` becomes the message's number 1..count (default `smppgw load {n}`). */
  text?: string;
  /** With dlr: how long to wait for receipts after the last submit_sm_resp (default 30 s). */
  timeoutMs?: number;
  /** submit_sm response timeout (default 10 s). */
  responseTimeoutMs?: number;
  /** A connection + bind that takes longer fails; reconnecting gives up after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Delay before binding again after a lost connection (default 100 ms). */
  reconnectDelayMs?: number;
  /** trx (default): transceivers, receipts come back on them; tx: transmitters, plus as many receivers with dlr. */
  bindType?: 'trx' | 'tx';
  /** Stops sending; the summary covers what was done. */
  signal?: AbortSignal;
  clock?: Clock;
  logger?: Logger;
}

export interface LoadSummary {
  /** Messages asked for. */
  requested: number;
  /** submit_sm sent. */
  sent: number;
  /** … answered ESME_ROK. */
  acked: number;
  /** Failures by status (`0x58`) or error code (SMPP_RESPONSE_TIMEOUT, SMPP_SESSION_CLOSED, …). */
  errors: Record<string, number>;
  /** Receipts received (esm_class 0x04), matched to an acked id, and the rest (unknown id, repeats, no id). */
  dlrs: number;
  dlrsMatched: number;
  dlrsUnmatched: number;
  /** Receipts by stat word. */
  dlrStats: Record<string, number>;
  /** submit_sm → submit_sm_resp, every response whatever its status. */
  latencyMs: Percentiles;
  /** submit_sm → its receipt, matched receipts only (with dlr). */
  dlrLatencyMs?: Omit<Percentiles, 'max'>;
  /** deliver_sm that were not receipts (MO messages). */
  mos: number;
  /** Connections bound again after being lost. */
  reconnects: number;
  /** First submit_sm to last submit_sm_resp. */
  elapsedMs: number;
  /** sent / elapsed. */
  msgsPerSec: number;
  /** Every message acked OK (and with dlr every receipt matched): exit code 0. */
  ok: boolean;
}

/** The exit code of `smppgw load` for a summary: 0 when everything was acked (and matched), else 1. */
export function loadExitCode(s: LoadSummary): 0 | 1 {
  return s.ok ? 0 : 1;
}

/** LoadOptions with every default filled in. */
export type Opts = Required<Omit<LoadOptions, 'signal' | 'clock' | 'logger' | 'systemType'>> & { systemType: string };
