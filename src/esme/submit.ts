// submit_sm from an account: the ordered checks (window, rate, fields), routing, and the ledger
// write. The response carries the gateway's id and goes out only after the commit; the message
// then goes to the dispatcher.
import type { Clock } from '../clock.js';
import { formatMessageId } from '../dlr/ids.js';
import { SmppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { TokenBucket } from '../rate/token-bucket.js';
import type { MtRouter } from '../routing/mt.js';
import { encode } from '../smpp/codec.js';
import { ESME_RINVMSGLEN, ESME_RMSGQFUL, ESME_RTHROTTLED, Status, TLVS, statusName } from '../smpp/defs.js';
import type { PduOf } from '../smpp/pdu.js';
import type { ResponseInit, Session } from '../smpp/session.js';
import { parseSmppTime } from '../smpp/time.js';
import type { Dispatcher } from '../smsc/dispatcher.js';
import type { Account } from '../store/accounts.js';
import type { GroupCommit } from '../store/group-commit.js';
import { StoreUnavailableError } from '../store/health.js';
import type { Ledger } from '../store/ledger.js';
import { esmeContext } from './auth.js';

const PAYLOAD = TLVS.get('message_payload')!.tag;

export interface SubmitOptions {
  clock: Clock;
  commit: GroupCommit;
  ledger: Ledger;
  dispatcher: Dispatcher;
  metrics: Metrics;
  logger: Logger;
  account: (accountId: number) => Account | undefined;
  router: () => MtRouter;
  /** Validity when the account gives none. */
  defaultValidityMs: number;
  /** Status for a message no route takes. */
  noRouteStatus: number;
  /** The largest PDU a carrier is sent (smpp.session.maxPduSize). */
  maxPduSize: number;
  now?: () => number;
}

export class SubmitHandler {
  private readonly buckets = new Map<number, TokenBucket>();
  private readonly now: () => number;

  constructor(private readonly o: SubmitOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Applies new account rates (after a table change). */
  reload(accounts: readonly Account[]): void {
    for (const a of accounts) this.buckets.get(a.id)?.setRate(a.tps);
    for (const id of this.buckets.keys()) if (!accounts.some((a) => a.id === id)) this.buckets.delete(id);
  }

  /** submit_sm: one message. */
  submit(pdu: PduOf<'submit_sm'>, session: Session): Promise<ResponseInit> {
    return this.run(session, async (account) => ({ message_id: formatMessageId(await this.accept(pdu, account), account.idFormat) }));
  }

  /** data_sm from an account is an MT like submit_sm; its text travels in message_payload. */
  dataSm(pdu: PduOf<'data_sm'>, session: Session): Promise<ResponseInit> {
    const sm: PduOf<'submit_sm'> = {
      ...pdu, command: 'submit_sm', protocol_id: 0, priority_flag: 0, schedule_delivery_time: '', validity_period: '',
      replace_if_present_flag: 0, sm_default_msg_id: 0, short_message: Buffer.alloc(0),
    };
    return this.run(session, async (account) => ({ message_id: formatMessageId(await this.accept(sm, account), account.idFormat) }));
  }

  /**
   * submit_multi: one ledger message per destination. Destinations refused are listed in
   * unsuccess_sme with their status; the response's message_id is the first accepted message's.
   */
  submitMulti(pdu: PduOf<'submit_multi'>, session: Session): Promise<ResponseInit> {
    return this.run(session, async (account) => {
      const results = await Promise.allSettled(
        pdu.dest_address.map((d) => {
          if (d.dest_flag !== 1) return Promise.reject(new SmppError(Status.ESME_RINVDLNAME!, 'distribution lists are not kept here'));
          const { dest_address: _unused, ...rest } = pdu;
          void _unused;
          return this.accept({ ...rest, command: 'submit_sm', dest_addr_ton: d.dest_addr_ton, dest_addr_npi: d.dest_addr_npi, destination_addr: d.destination_addr }, account);
        }),
      );
      const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const unsuccess_sme = results.flatMap((r, i) => {
        if (r.status === 'fulfilled') return [];
        const d = pdu.dest_address[i]!;
        const status = r.reason instanceof SmppError ? r.reason.status : r.reason instanceof StoreUnavailableError ? ESME_RMSGQFUL : Status.ESME_RSYSERR!;
        return [{ dest_addr_ton: d.dest_addr_ton, dest_addr_npi: d.dest_addr_npi, destination_addr: d.destination_addr, error_status_code: status }];
      });
      if (ok.length === 0) throw new SmppError(unsuccess_sme[0]?.error_status_code ?? Status.ESME_RINVNUMDESTS!, 'no destination accepted');
      return { message_id: formatMessageId(ok[0]!, account.idFormat), unsuccess_sme };
    });
  }

  /** The account-side bookkeeping around one request: window, metrics, latency. */
  private async run(session: Session, work: (account: Account) => Promise<ResponseInit>): Promise<ResponseInit> {
    const started = this.o.clock.now();
    const ctx = esmeContext(session);
    const account = ctx ? this.o.account(ctx.accountId) : undefined;
    if (!ctx || !account) throw new SmppError(Status.ESME_RINVBNDSTS!, 'session has no account');
    // The operator's kill switch works on binds already up, too.
    if (!account.enabled) throw new SmppError(Status.ESME_RSUBMITFAIL!, 'account disabled');
    let status = 0;
    ctx.open++;
    try {
      if (ctx.open > account.window) throw new SmppError(ESME_RMSGQFUL, `window of ${account.window} exceeded`);
      return await work(account);
    } catch (err) {
      // The store cannot commit now (disk full, locked, lost): "cannot store now", which ESMEs retry.
      const e = err instanceof StoreUnavailableError ? new SmppError(ESME_RMSGQFUL, 'cannot store now') : err;
      status = e instanceof SmppError ? e.status : Status.ESME_RSYSERR!;
      throw e;
    } finally {
      ctx.open--;
      this.o.metrics.esmeSubmits.inc({ account: account.systemId, status: this.o.metrics.statusLabel(statusName(status)) });
      this.o.metrics.esmeLatency.observe((this.o.clock.now() - started) / 1000);
    }
  }

  /** Checks, routes and stores one message; resolves with its id after the commit. */
  private async accept(pdu: PduOf<'submit_sm'>, account: Account): Promise<number> {
    // Every destination counts against the rate (a submit_multi's throttled ones are listed in unsuccess_sme).
    if (!this.bucket(account).take()) {
      this.o.metrics.accountThrottled.inc({ account: account.systemId });
      throw new SmppError(ESME_RTHROTTLED);
    }
    if (pdu.destination_addr === '') throw new SmppError(Status.ESME_RINVDSTADR!, 'destination_addr is empty');
    if (pdu.destination_addr.length > 20) throw new SmppError(Status.ESME_RINVDSTADR!, 'destination_addr is longer than a submit_sm carries');
    const payload = pdu.tlvs?.some((t) => t.tag === PAYLOAD && t.value.length > 0) ?? false;
    if (payload && pdu.short_message.length > 0) throw new SmppError(Status.ESME_RINVMSGLEN!, 'short_message and message_payload both carry data');
    const now = this.now();
    if (pdu.schedule_delivery_time !== '' && parseSmppTime(pdu.schedule_delivery_time, now) === undefined) {
      throw new SmppError(Status.ESME_RINVSCHED!, 'schedule_delivery_time is not a valid SMPP time');
    }
    let expiresAt = now + this.o.defaultValidityMs;
    if (pdu.validity_period !== '') {
      const t = parseSmppTime(pdu.validity_period, now);
      if (t === undefined) throw new SmppError(Status.ESME_RINVEXPIRY!, 'validity_period is not a valid SMPP time');
      if (t <= now) throw new SmppError(Status.ESME_RINVEXPIRY!, 'validity_period is in the past');
      expiresAt = Math.min(t, now + 7 * this.o.defaultValidityMs);
    }
    const route = this.o.router().route({ account: account.systemId, source: pdu.source_addr, destination: pdu.destination_addr }, now);
    if (!route) throw new SmppError(this.o.noRouteStatus, 'no route');
    const bytes = encode(pdu);
    // A data_sm at the size limit grows as a submit_sm: refuse it rather than accept what no carrier link could carry.
    if (bytes.length > this.o.maxPduSize) throw new SmppError(ESME_RINVMSGLEN, `${bytes.length} bytes as a submit_sm; the limit is ${this.o.maxPduSize}`);
    const id = await this.o.commit.run(() =>
      this.o.ledger.insert({
        accountId: account.id, sourceAddr: pdu.source_addr, destAddr: pdu.destination_addr, registeredDelivery: pdu.registered_delivery,
        pdu: bytes, routeId: route.routeId, connectors: route.connectors, expiresAt, now,
      }),
    );
    this.o.metrics.accepted.mark(account.systemId);
    this.o.dispatcher.accept({ id, accountId: account.id, pdu: bytes, connectors: route.connectors, tried: 0, attempts: 0, expiresAt, submittedAt: now });
    return id;
  }

  private bucket(account: Account): TokenBucket {
    let b = this.buckets.get(account.id);
    if (!b) this.buckets.set(account.id, (b = new TokenBucket(account.tps, this.o.clock)));
    return b;
  }
}
