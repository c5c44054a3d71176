// query_sm, cancel_sm and replace_sm from an account, about one of its own messages: answered
// from the ledger while the message is here, forwarded to the carrier (with the carrier's id)
// once it has left.
import { MessageState, isFinal } from '../smpp/message-state.js';
import { SmppError } from '../smpp/errors.js';
import type { Logger } from '../log.js';
import type { IdFormat } from '../messages/ids.js';
import { decode, encode } from '../smpp/codec.js';
import { ESME_RMSGQFUL, Status, MESSAGE_PAYLOAD_TAG } from '../smpp/defs.js';
import { formatSmppTime } from '../smpp/time.js';
import type { PduOf } from '../smpp/pdu.js';
import type { ResponseInit, Session } from '../smpp/session.js';
import type { Dispatcher } from '../smsc/dispatcher.js';
import type { Account } from '../store/accounts.js';
import { StoreUnavailableError } from '../store/health.js';
import type { Ledger, MessageRecord } from '../store/ledger.js';
import { esmeContext } from './auth.js';

export interface ManageOptions {
  ledger: Ledger;
  /** The carrier side: changes a message where it is (here, or at the carrier that took it). */
  carrier: Pick<Dispatcher, 'cancel' | 'replace'>;
  account: (accountId: number) => Account | undefined;
  /** The ids accounts see (src/messages/ids.ts). */
  ids: { format(id: number, format: IdFormat): string; parse(text: string, format: IdFormat): number | undefined };
  logger: Logger;
  /** The largest PDU a carrier is sent (smpp.session.maxPduSize). */
  maxPduSize: number;
}

/** The store cannot commit now (disk full, locked, lost): "cannot store now", which ESMEs retry. */
async function cannotStoreNow(work: Promise<ResponseInit>): Promise<ResponseInit> {
  try {
    return await work;
  } catch (err) {
    throw err instanceof StoreUnavailableError ? new SmppError(ESME_RMSGQFUL, 'cannot store now') : err;
  }
}

export class ManageHandler {
  constructor(private readonly o: ManageOptions) {}

  query(pdu: PduOf<'query_sm'>, session: Session): ResponseInit {
    const { record } = this.own(pdu.message_id, session, Status.ESME_RQUERYFAIL);
    return {
      message_id: pdu.message_id,
      final_date: isFinal(record.state) && record.doneAt !== null ? formatSmppTime(record.doneAt) : '',
      // Our own QUEUED is ENROUTE to the account.
      message_state: record.state === MessageState.QUEUED ? MessageState.ENROUTE : record.state,
      error_code: (record.error ?? 0) & 0xff,
    };
  }

  cancel(pdu: PduOf<'cancel_sm'>, session: Session): Promise<ResponseInit> {
    return cannotStoreNow(this.cancelOwn(pdu, session));
  }

  replace(pdu: PduOf<'replace_sm'>, session: Session): Promise<ResponseInit> {
    return cannotStoreNow(this.replaceOwn(pdu, session));
  }

  private async cancelOwn(pdu: PduOf<'cancel_sm'>, session: Session): Promise<ResponseInit> {
    const fail = Status.ESME_RCANCELFAIL;
    if (pdu.message_id === '') throw new SmppError(fail, 'cancel by address is not supported; give message_id');
    const { record } = this.own(pdu.message_id, session, fail);
    const change = await this.o.carrier.cancel(record, pdu);
    if (!change.ok) throw new SmppError(fail, change.why);
    return {};
  }

  private async replaceOwn(pdu: PduOf<'replace_sm'>, session: Session): Promise<ResponseInit> {
    const fail = Status.ESME_RREPLACEFAIL;
    const { record } = this.own(pdu.message_id, session, fail);
    const replaced = (stored: Buffer) => {
      const sm = decode(stored) as PduOf<'submit_sm'>;
      // The new text replaces the old wherever it was: a message_payload goes.
      const tlvs = sm.tlvs?.filter((t) => t.tag !== MESSAGE_PAYLOAD_TAG);
      const next = encode({
        ...sm,
        short_message: pdu.short_message,
        registered_delivery: pdu.registered_delivery,
        sm_default_msg_id: pdu.sm_default_msg_id,
        ...(tlvs ? { tlvs } : {}),
        ...(pdu.validity_period ? { validity_period: pdu.validity_period } : {}),
        ...(pdu.schedule_delivery_time ? { schedule_delivery_time: pdu.schedule_delivery_time } : {}),
      });
      if (next.length > this.o.maxPduSize) throw new SmppError(fail, `${next.length} bytes once replaced; the limit is ${this.o.maxPduSize}`);
      return next;
    };
    const change = await this.o.carrier.replace(record, pdu, replaced);
    if (!change.ok) throw new SmppError(fail, change.why);
    return {};
  }

  /** The account's own message named by `messageId`; anything else fails with `fail`. */
  private own(messageId: string, session: Session, fail: number): { record: MessageRecord; account: Account } {
    const ctx = esmeContext(session);
    const account = ctx ? this.o.account(ctx.accountId) : undefined;
    if (!account) throw new SmppError(Status.ESME_RINVBNDSTS, 'session has no account');
    if (!account.enabled) throw new SmppError(fail, 'account disabled');
    const id = this.o.ids.parse(messageId, account.idFormat);
    const record = id === undefined ? undefined : this.o.ledger.get(id);
    if (!record || record.accountId !== account.id || this.o.ids.format(record.id, account.idFormat) !== messageId.trim().toLowerCase()) {
      throw new SmppError(fail === Status.ESME_RQUERYFAIL ? fail : Status.ESME_RINVMSGID, `no message ${messageId} of this account`);
    }
    return { record, account };
  }
}
