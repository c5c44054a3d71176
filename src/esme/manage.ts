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
import type { GroupCommit } from '../store/group-commit.js';
import { StoreUnavailableError } from '../store/health.js';
import type { Ledger, MessageRecord } from '../store/ledger.js';
import { esmeContext } from './auth.js';


export interface ManageOptions {
  ledger: Ledger;
  commit: GroupCommit;
  dispatcher: Dispatcher;
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
    const held = this.o.dispatcher.holding(record.id);
    if (held && !held.inFlight) {
      await this.o.dispatcher.cancel(held, MessageState.DELETED);
      return {};
    }
    if (!held && record.state === MessageState.QUEUED) {
      // Queued in the ledger only (memory was full): it ends there.
      const done = this.o.dispatcher.whileStored(record.id, () => this.o.dispatcher.cancelStored(record, MessageState.DELETED));
      if (done) {
        await done;
        return {};
      }
    }
    const carrier = this.carrierSession(record, fail);
    const resp = await carrier.request({ ...pdu, message_id: record.smscIdRaw! });
    if (resp.command_status !== 0) throw new SmppError(fail, `carrier refused cancel_sm (status ${resp.command_status})`);
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
        ...sm, short_message: pdu.short_message, registered_delivery: pdu.registered_delivery, sm_default_msg_id: pdu.sm_default_msg_id,
        ...(tlvs ? { tlvs } : {}),
        ...(pdu.validity_period ? { validity_period: pdu.validity_period } : {}),
        ...(pdu.schedule_delivery_time ? { schedule_delivery_time: pdu.schedule_delivery_time } : {}),
      });
      if (next.length > this.o.maxPduSize) throw new SmppError(fail, `${next.length} bytes once replaced; the limit is ${this.o.maxPduSize}`);
      return next;
    };
    const store = (next: Buffer) =>
      this.o.commit.run(() => this.o.ledger.replacePdu(record.id, next, pdu.registered_delivery)).catch((err: unknown) => {
        if (err instanceof StoreUnavailableError) throw err;
        return false;
      });
    const held = this.o.dispatcher.holding(record.id);
    if (held && !held.inFlight) {
      const next = replaced(held.pdu);
      // In memory first: the dispatcher may send it while the commit is under way.
      const previous = held.pdu;
      held.pdu = next;
      if (!(await store(next))) {
        held.pdu = previous;
        throw new SmppError(fail, 'the message left meanwhile');
      }
      return {};
    }
    if (!held && record.state === MessageState.QUEUED) {
      // Queued in the ledger only (memory was full): replaced there, and paged in as replaced.
      const done = this.o.dispatcher.whileStored(record.id, () => store(replaced(record.pdu)));
      if (done) {
        if (!(await done)) throw new SmppError(fail, 'the message left meanwhile');
        return {};
      }
    }
    const carrier = this.carrierSession(record, fail);
    const resp = await carrier.request({ ...pdu, message_id: record.smscIdRaw! });
    if (resp.command_status !== 0) throw new SmppError(fail, `carrier refused replace_sm (status ${resp.command_status})`);
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

  private carrierSession(record: MessageRecord, fail: number): Session {
    if (isFinal(record.state) || record.smscIdRaw === null || record.connector === null) throw new SmppError(fail, 'message already final or not yet accepted');
    const session = this.o.dispatcher.links.get(record.connector)?.session;
    if (!session) throw new SmppError(fail, `connector ${record.connector} is down`);
    return session;
  }
}
