// The SMPP door for MT: submit_sm, data_sm and submit_multi from an account's bind become message
// requests for the intake (src/messages/intake.ts). What is SMPP's own stays here: the bind's
// window, the shape of the PDU (short_message or message_payload, SMPP times), the statuses the
// ESME is answered with, and the id in the account's format.
import type { Clock } from '../clock.js';
import { SmppError } from '../smpp/errors.js';
import type { IdFormat } from '../messages/ids.js';
import type { Intake, MessageRequest } from '../messages/intake.js';
import { Refused, type RefusalReason } from '../messages/refused.js';
import type { Metrics } from '../metrics.js';
import { ESME_RINVMSGLEN, ESME_RMSGQFUL, ESME_RTHROTTLED, Status, statusName, MESSAGE_PAYLOAD_TAG } from '../smpp/defs.js';
import type { PduOf } from '../smpp/pdu.js';
import type { ResponseInit, Session } from '../smpp/session.js';
import { parseSmppTime } from '../smpp/time.js';
import type { Account } from '../store/accounts.js';
import { StoreUnavailableError } from '../store/health.js';
import { esmeContext } from './auth.js';

const EMPTY = Buffer.alloc(0);

export interface SubmitOptions {
  clock: Clock;
  intake: Intake;
  metrics: Metrics;
  account: (accountId: number) => Account | undefined;
  /** The id an account sees for a message (row). */
  formatId: (id: number, format: IdFormat) => string;
  /** Status for a message no route takes (routing.noRouteStatus). */
  noRouteStatus: number;
  /** Wall-clock time, for relative SMPP times. */
  now?: () => number;
}

export class SubmitHandler {
  private readonly now: () => number;
  private readonly statusOf: Record<RefusalReason, number>;

  constructor(private readonly o: SubmitOptions) {
    this.now = o.now ?? Date.now;
    this.statusOf = {
      unknown_account: Status.ESME_RINVBNDSTS,
      account_disabled: Status.ESME_RSUBMITFAIL,
      throttled: ESME_RTHROTTLED,
      invalid_destination: Status.ESME_RINVDSTADR,
      invalid_source: Status.ESME_RINVSRCADR,
      invalid_validity: Status.ESME_RINVEXPIRY,
      policy: Status.ESME_RSUBMITFAIL,
      no_route: o.noRouteStatus,
      too_large: ESME_RINVMSGLEN,
      invalid_coding: Status.ESME_RINVDCS,
      invalid_header: Status.ESME_RINVESMCLASS,
      too_many_parts: ESME_RINVMSGLEN,
    };
  }

  /** submit_sm: one message. */
  submit(pdu: PduOf<'submit_sm'>, session: Session): Promise<ResponseInit> {
    return this.run(session, async (account) => ({ message_id: this.o.formatId(await this.accept(pdu, account), account.idFormat) }));
  }

  /** data_sm from an account is an MT like submit_sm; its text travels in message_payload. */
  dataSm(pdu: PduOf<'data_sm'>, session: Session): Promise<ResponseInit> {
    const sm: PduOf<'submit_sm'> = {
      ...pdu,
      command: 'submit_sm',
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: '',
      validity_period: '',
      replace_if_present_flag: 0,
      sm_default_msg_id: 0,
      short_message: EMPTY,
    };
    return this.run(session, async (account) => ({ message_id: this.o.formatId(await this.accept(sm, account), account.idFormat) }));
  }

  /**
   * submit_multi: one message per destination. Destinations refused are listed in unsuccess_sme
   * with their status; the response's message_id is the first accepted message's.
   */
  submitMulti(pdu: PduOf<'submit_multi'>, session: Session): Promise<ResponseInit> {
    return this.run(session, async (account) => {
      const { dest_address: dests, ...rest } = pdu;
      const results = await Promise.allSettled(
        dests.map((d) => {
          if (d.dest_flag !== 1) return Promise.reject(new SmppError(Status.ESME_RINVDLNAME, 'distribution lists are not kept here'));
          return this.accept(
            { ...rest, command: 'submit_sm', dest_addr_ton: d.dest_addr_ton, dest_addr_npi: d.dest_addr_npi, destination_addr: d.destination_addr },
            account,
          );
        }),
      );
      const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const unsuccess_sme = results.flatMap((r, i) => {
        if (r.status === 'fulfilled') return [];
        const d = dests[i]!;
        return [
          {
            dest_addr_ton: d.dest_addr_ton,
            dest_addr_npi: d.dest_addr_npi,
            destination_addr: d.destination_addr,
            error_status_code: this.smppError(r.reason).status,
          },
        ];
      });
      if (ok.length === 0) throw new SmppError(unsuccess_sme[0]?.error_status_code ?? Status.ESME_RINVNUMDESTS, 'no destination accepted');
      return { message_id: this.o.formatId(ok[0]!, account.idFormat), unsuccess_sme };
    });
  }

  /** The bind-side bookkeeping around one request: account, window, metrics, latency. */
  private async run(session: Session, work: (account: Account) => Promise<ResponseInit>): Promise<ResponseInit> {
    const started = this.o.clock.now();
    const ctx = esmeContext(session);
    const account = ctx ? this.o.account(ctx.accountId) : undefined;
    if (!ctx || !account) throw new SmppError(Status.ESME_RINVBNDSTS, 'session has no account');
    let status = 0;
    ctx.open++;
    try {
      if (ctx.open > account.window) throw new SmppError(ESME_RMSGQFUL, `window of ${account.window} exceeded`);
      return await work(account);
    } catch (err) {
      const e = this.smppError(err);
      status = e.status;
      throw e;
    } finally {
      ctx.open--;
      this.o.metrics.esmeSubmits.inc({ account: account.systemId, status: this.o.metrics.statusLabel(statusName(status)) });
      this.o.metrics.esmeLatency.observe((this.o.clock.now() - started) / 1000);
    }
  }

  /** What the ESME is answered for a failure. */
  private smppError(err: unknown): SmppError {
    if (err instanceof SmppError) return err;
    if (err instanceof Refused) return new SmppError(this.statusOf[err.reason], err.message);
    // The store cannot commit now (disk full, locked, lost): "cannot store now", which ESMEs retry.
    if (err instanceof StoreUnavailableError) return new SmppError(ESME_RMSGQFUL, 'cannot store now');
    return new SmppError(Status.ESME_RSYSERR, err instanceof Error ? err.message : String(err));
  }

  /** A submit_sm's checks that are SMPP's own, then the intake. */
  private async accept(pdu: PduOf<'submit_sm'>, account: Account): Promise<number> {
    const payload = pdu.tlvs?.find((t) => t.tag === MESSAGE_PAYLOAD_TAG && t.value.length > 0);
    if (payload && pdu.short_message.length > 0) throw new SmppError(Status.ESME_RINVMSGLEN, 'short_message and message_payload both carry data');
    const now = this.now();
    if (pdu.schedule_delivery_time !== '' && parseSmppTime(pdu.schedule_delivery_time, now) === undefined) {
      throw new SmppError(Status.ESME_RINVSCHED, 'schedule_delivery_time is not a valid SMPP time');
    }
    let validUntil: number | undefined;
    if (pdu.validity_period !== '') {
      validUntil = parseSmppTime(pdu.validity_period, now);
      if (validUntil === undefined) throw new SmppError(Status.ESME_RINVEXPIRY, 'validity_period is not a valid SMPP time');
    }
    const req: MessageRequest = {
      accountId: account.id,
      origin: 'smpp',
      source: { addr: pdu.source_addr, ton: pdu.source_addr_ton, npi: pdu.source_addr_npi },
      destination: { addr: pdu.destination_addr, ton: pdu.dest_addr_ton, npi: pdu.dest_addr_npi },
      body: payload ? payload.value : pdu.short_message,
      bodyInPayload: payload !== undefined,
      dataCoding: pdu.data_coding,
      esmClass: pdu.esm_class,
      tlvs: pdu.tlvs,
      registeredDelivery: pdu.registered_delivery,
      validUntil,
      priority: pdu.priority_flag,
      protocolId: pdu.protocol_id,
      serviceType: pdu.service_type,
      replaceIfPresent: pdu.replace_if_present_flag,
      defaultMsgId: pdu.sm_default_msg_id,
      scheduleText: pdu.schedule_delivery_time,
      validityText: pdu.validity_period,
    };
    return this.o.intake.submit(req);
  }
}
