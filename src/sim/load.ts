// An ESME load generator: opens binds to an SMSC (the simulator, the gateway, a carrier's test
// system), sends N submit_sm spread over them with a window per bind and an optional overall
// rate, and with `dlr` waits for the delivery receipts and matches them to the message ids of the
// submit_sm_resp. runLoad() is the in-process API (the gateway's e2e tests call it);
// `smppgw load` (src/cli/sim.ts) prints its summary as one JSON line.
//
// A connection lost mid-run is bound again (after a short delay) and sending goes on; the submits
// in flight on the lost connection are not retried but counted as errors, under the error code
// SMPP_SESSION_CLOSED. That keeps `sent` equal to the submits that really went out, and no message
// is ever sent twice by the tool.
//
// This file holds the run loop (pacing, the submits, receipt matching); the bind slots are in
// load-bind.ts, the option and summary types in load-types.ts and the summary's arithmetic in
// load-summary.ts.
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { foldId } from '../dlr/ids.js';
import { isReceipt, parseReceipt, statOf } from '../dlr/receipt.js';
import { InvalidInputError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Pdu } from '../smpp/pdu.js';
import type { Session } from '../smpp/session.js';
import type { BindCommand } from '../smpp/states.js';
import { Abort, Bind } from './load-bind.js';
import { errorKey, summarize } from './load-summary.js';
import type { LoadOptions, LoadSummary, Opts } from './load-types.js';
import { AddressRange, encodeText, statusKey } from './util.js';

export { loadExitCode } from './load-types.js';
export type { LoadOptions, LoadSummary } from './load-types.js';

class LoadRun {
  readonly opts: Opts;
  readonly clock: Clock;
  readonly log: Logger;
  aborted = false;
  private next = 0;
  private sent = 0;
  private acked = 0;
  private responded = 0;
  private readonly errors: Record<string, number> = {};
  private readonly sentAt: Float64Array;
  private readonly latency: Float64Array;
  private readonly dlrLatency: Float64Array;
  /** Receipt seen for message i. */
  private readonly receipted: Uint8Array;
  /** Folded message id → message index, for acked messages. */
  private readonly ids = new Map<string, number>();
  /** Receipts that came before their submit_sm_resp (another bind was faster): folded id → time. */
  private readonly early = new Map<string, number>();
  private dlrs = 0;
  private dlrsMatched = 0;
  private readonly dlrStats: Record<string, number> = {};
  private mos = 0;
  private firstSentAt: number | undefined;
  private lastRespAt: number | undefined;
  private readonly sleepers = new Set<{ timer: TimerHandle; resolve(): void }>();
  private dlrWaiter: (() => void) | undefined;
  private readonly dest: AddressRange;
  private readonly source: AddressRange;
  private nextSlot = 0;

  constructor(options: LoadOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    const o: Opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port,
      systemId: options.systemId,
      password: options.password,
      systemType: options.systemType ?? '',
      count: options.count,
      window: options.window ?? 10,
      rate: options.rate ?? 0,
      binds: options.binds ?? 1,
      dlr: options.dlr ?? false,
      source: options.source ?? 'SMPPGW',
      dest: options.dest ?? '4917000000..4917099999',
      text: options.text ?? 'smppgw load {n}',
      timeoutMs: options.timeoutMs ?? 30_000,
      responseTimeoutMs: options.responseTimeoutMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      reconnectDelayMs: options.reconnectDelayMs ?? 100,
      bindType: options.bindType ?? 'trx',
    };
    for (const [k, min] of [
      ['count', 0],
      ['window', 1],
      ['binds', 1],
    ] as const) {
      if (!Number.isInteger(o[k]) || o[k] < min) throw new InvalidInputError(`${k} must be a whole number ≥ ${min}`);
    }
    if (!(o.rate >= 0)) throw new InvalidInputError('rate must be ≥ 0');
    if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65_535) throw new InvalidInputError('port must be 1..65535');
    this.opts = o;
    this.dest = new AddressRange(o.dest);
    this.source = new AddressRange(o.source);
    if (encodeText(o.text.replaceAll('{n}', String(o.count))).short_message.length > 254)
      throw new InvalidInputError('text is longer than one short_message (254 octets)');
    this.sentAt = new Float64Array(o.count);
    this.latency = new Float64Array(o.count);
    this.dlrLatency = new Float64Array(o.dlr ? o.count : 0);
    this.receipted = new Uint8Array(o.dlr ? o.count : 0);
  }

  async run(signal: AbortSignal | undefined): Promise<LoadSummary> {
    const onAbort = () => this.abort();
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) this.abort();
    const o = this.opts;
    const txCommand: BindCommand = o.bindType === 'tx' ? 'bind_transmitter' : 'bind_transceiver';
    const senders = Array.from({ length: o.binds }, (_, i) => new Bind(this, txCommand, i));
    const receivers = o.dlr && o.bindType === 'tx' ? Array.from({ length: o.binds }, (_, i) => new Bind(this, 'bind_receiver', i)) : [];
    const all = [...senders, ...receivers];
    try {
      // Every bind up before the first submit, so receipts have somewhere to go.
      const bound = await Promise.allSettled(all.map((b) => b.ready()));
      const failed = bound.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof Abort));
      if (failed) {
        const err = failed.reason as Error;
        this.countError(err);
        this.log.error({ err: err.message }, 'bind failed; nothing sent');
      } else {
        await Promise.all(senders.map((b) => this.worker(b)));
        if (o.dlr && this.acked > 0) await this.waitReceipts(receivers);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.wakeSleepers();
      await Promise.allSettled(all.map((b) => b.close()));
    }
    return this.summary(all.reduce((n, b) => n + b.reconnects, 0));
  }

  abort(): void {
    this.aborted = true;
    this.wakeSleepers();
    this.dlrWaiter?.();
  }

  /** Waits `ms` on the clock (woken early by abort). */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: this.clock.setTimeout(() => {
          this.sleepers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.sleepers.add(entry);
    });
  }

  private wakeSleepers(): void {
    for (const s of this.sleepers) {
      this.clock.clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
  }

  /** Sends messages on one bind, at most `window` in flight, until none are left. */
  private async worker(bind: Bind): Promise<void> {
    const inflight = new Set<Promise<void>>();
    // Each pass claims one message or ends the loop; `count` bounds the passes.
    for (let pass = 0; pass <= this.opts.count; pass++) {
      if (this.aborted || this.next >= this.opts.count) break;
      let session: Session;
      try {
        session = await bind.ready();
      } catch (err) {
        if (!(err instanceof Abort)) {
          this.countError(err as Error);
          this.log.error({ bind: bind.index, err: (err as Error).message }, 'could not bind again; this bind stops sending');
        }
        break;
      }
      await this.pace();
      if (this.aborted || this.next >= this.opts.count) break;
      if (!session.isBound) {
        // Lost while waiting for the pace: take the new bind (the message is not claimed yet).
        try {
          session = await bind.ready();
        } catch (err) {
          if (!(err instanceof Abort)) this.countError(err as Error);
          break;
        }
      }
      const i = this.next++;
      const p = this.submit(session, i);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= this.opts.window) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }

  /** With a rate: waits for the next send slot, shared by all binds. */
  private async pace(): Promise<void> {
    const rate = this.opts.rate;
    if (rate <= 0) return;
    const now = this.clock.now();
    const slot = Math.max(this.nextSlot, now);
    this.nextSlot = slot + 1000 / rate;
    if (slot > now) await this.sleep(slot - now);
  }

  private async submit(session: Session, i: number): Promise<void> {
    const n = i + 1;
    const src = this.source.at(i);
    const { ton: sTon, npi: sNpi } = this.source.tonNpi;
    const { ton: dTon, npi: dNpi } = this.dest.tonNpi;
    const now = this.clock.now();
    this.sentAt[i] = now;
    this.firstSentAt ??= now;
    this.sent++;
    try {
      const resp = await session.request({
        command: 'submit_sm',
        source_addr_ton: sTon,
        source_addr_npi: sNpi,
        source_addr: src,
        dest_addr_ton: dTon,
        dest_addr_npi: dNpi,
        destination_addr: this.dest.at(i),
        registered_delivery: this.opts.dlr ? 1 : 0,
        ...encodeText(this.opts.text.replaceAll('{n}', String(n))),
      });
      const at = this.clock.now();
      this.latency[this.responded++] = at - now;
      this.lastRespAt = at;
      if (resp.command_status !== 0) {
        this.bump(this.errors, statusKey(resp.command_status));
        return;
      }
      this.acked++;
      if (!this.opts.dlr) return;
      const id = foldId(resp.message_id);
      if (this.ids.has(id)) this.log.warn({ id: resp.message_id }, 'the same message id came back twice');
      this.ids.set(id, i);
      const early = this.early.get(id);
      if (early !== undefined) {
        this.early.delete(id);
        this.match(i, early);
      }
    } catch (err) {
      this.countError(err as Error);
    }
  }

  private countError(err: Error): void {
    this.bump(this.errors, errorKey(err));
  }

  private bump(rec: Record<string, number>, key: string): void {
    rec[key] = (rec[key] ?? 0) + 1;
  }

  /** deliver_sm / data_sm from the SMSC: receipts are matched, everything is answered ESME_ROK. */
  onIncoming(pdu: Pdu): void {
    if (pdu.command !== 'deliver_sm' && pdu.command !== 'data_sm') return;
    if (!isReceipt(pdu.esm_class)) {
      this.mos++;
      return;
    }
    this.dlrs++;
    const r = parseReceipt(pdu);
    if (r === undefined) return; // a receipt without an id: unmatched
    this.bump(this.dlrStats, statOf(r.state));
    if (!this.opts.dlr) return;
    const now = this.clock.now();
    const id = foldId(r.id);
    const i = this.ids.get(id);
    if (i === undefined) {
      if (!this.early.has(id)) this.early.set(id, now);
      return;
    }
    if (this.receipted[i]) return; // a repeat: unmatched
    this.match(i, now);
  }

  private match(i: number, at: number): void {
    this.receipted[i] = 1;
    this.dlrLatency[this.dlrsMatched++] = at - this.sentAt[i]!;
    if (this.dlrsMatched >= this.acked) this.dlrWaiter?.();
  }

  /** Waits until every acked message has its receipt, or `timeoutMs` after the last response. */
  private async waitReceipts(receivers: Bind[]): Promise<void> {
    const deadline = (this.lastRespAt ?? this.clock.now()) + this.opts.timeoutMs;
    // Receivers lost while waiting are bound again (the SMSC keeps their receipts).
    for (const b of receivers) void b.ready().catch(() => undefined);
    if (this.dlrsMatched >= this.acked || this.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(done, Math.max(0, deadline - this.clock.now()));
      const self = this;
      function done(): void {
        self.clock.clearTimeout(timer);
        self.dlrWaiter = undefined;
        resolve();
      }
      this.dlrWaiter = done;
    });
    if (this.dlrsMatched < this.acked) this.log.warn({ missing: this.acked - this.dlrsMatched }, 'receipts missing at the timeout');
  }

  private summary(reconnects: number): LoadSummary {
    const { sent, acked, responded, errors, latency, dlrLatency, dlrs, dlrsMatched, dlrStats, mos, firstSentAt, lastRespAt } = this;
    return summarize(this.opts, { sent, acked, responded, errors, latency, dlrLatency, dlrs, dlrsMatched, dlrStats, mos, firstSentAt, lastRespAt }, reconnects);
  }
}

/** Runs a load test and resolves with its summary; rejects only on invalid options. */
export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  return new LoadRun(options).run(options.signal);
}
