// The response path for requests from the peer: running the caller's handler for each request the
// Reader lets through (and, SMSC side, the bind decision), counting those being handled against
// the inbound window, and writing the answer: the handler's response, the status of what it threw,
// or generic_nack. Which requests may come in which state is decided by the Reader before this;
// the bind's progress is reported to the Session as events (it alone changes the state).
// A handler that throws or rejects never reaches the process: the peer gets ESME_RSYSERR and the
// log a line.
import { SmppError } from './errors.js';
import type { Logger } from '../log.js';
import { encode, encodeAs } from './codec.js';
import { COMMANDS, ESME_RBINDFAIL, ESME_RINVCMDID, ESME_RMSGQFUL, ESME_RSYSERR } from './defs.js';
import type { Bodies, CommandName, Pdu, PduInput, PduOf, Tlv } from './pdu.js';
import type { Session } from './session.js';
import { isBindCommand, type BindCommand, type SessionEvent, type SessionState } from './states.js';
import type { CoalescingWriter } from './writer.js';

/** What a handler answers a request with: the response's status, body fields and TLVs. */
export type ResponseInit = { command_status?: number; tlvs?: Tlv[] } & Partial<
  Bodies['submit_sm_resp'] & Bodies['submit_multi_resp'] & Bodies['query_sm_resp'] & Bodies['bind_transceiver_resp']
>;

export type BindPdu = PduOf<BindCommand>;

export interface SessionHandlers {
  /** SMSC side: decide a bind. Answer with a status (ESME_ROK to accept) and our system_id. */
  bind?(pdu: BindPdu, session: Session): ResponseInit | Promise<ResponseInit>;
  /**
   * Every other request the peer may send in the current state (submit_sm, deliver_sm, …), and the
   * notifications outbind and alert_notification (whose return value is ignored).
   * Throw an SmppError to answer with its status.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler may answer with nothing (an empty OK response)
  request?(pdu: Pdu, session: Session): ResponseInit | void | Promise<ResponseInit | void>;
  /** Called once, when the state changes (bound, unbinding, closed). */
  state?(session: Session, state: SessionState): void;
  /** Called once, after the socket closed and every pending request was rejected. */
  close?(session: Session, reason: string): void;
}

/** How the Responder reports to its Session (built once per session). */
export interface ResponderHost {
  /** A bind event (bind_received, bind_accepted, bind_refused) for the state machine. */
  report(event: SessionEvent): void;
  /** A request was answered (or dropped on a closed session): the session may have become idle. */
  settled(): void;
}

export class Responder {
  /** Requests from the peer being handled now. */
  active = 0;

  constructor(
    private readonly session: Session,
    private readonly handlers: SessionHandlers,
    private readonly writer: CoalescingWriter,
    private readonly log: Logger,
    /** Requests from the peer being handled at once; more are answered ESME_RMSGQFUL. */
    private readonly window: number,
    private readonly host: ResponderHost,
  ) {}

  /** A request the Session has let through (its direction and the state allow it): handle it. */
  handle(pdu: Pdu): void {
    if (this.active >= this.window) return this.refuse(pdu, ESME_RMSGQFUL);
    if (isBindCommand(pdu.command)) return this.onBind(pdu as BindPdu);
    const handler = this.handlers.request;
    if (handler === undefined) return this.refuse(pdu, ESME_RINVCMDID);
    this.runHandler(pdu, () => handler(pdu, this.session));
  }

  respond(request: Pdu, init: ResponseInit): void {
    const responseName = COMMANDS.get(request.command)?.pair as CommandName | undefined;
    if (responseName === undefined) return; // outbind, alert_notification: no response
    let bytes: Buffer;
    try {
      // encodeAs, not a spread: a new object shape per response made encoding several times slower.
      bytes = encodeAs(responseName, request.sequence_number, init.command_status ?? 0, init);
    } catch (err) {
      this.log.error({ err: (err as Error).message, command: responseName }, 'handler gave an invalid response; answering ESME_RSYSERR');
      bytes = encode({ command: responseName, sequence_number: request.sequence_number, command_status: ESME_RSYSERR } as PduInput);
    }
    this.writer.write(bytes);
  }

  /** Answers a request we will not handle: its own response, or generic_nack if it has none. */
  refuse(request: Pdu, status: number): void {
    if (COMMANDS.get(request.command)?.pair === undefined) this.nack(request.sequence_number, status);
    else this.respond(request, { command_status: status });
  }

  nack(seq: number, status: number): void {
    this.writer.write(encode({ command: 'generic_nack', sequence_number: seq, command_status: status }));
  }

  private onBind(pdu: BindPdu): void {
    const decide = this.handlers.bind;
    if (decide === undefined) return this.respond(pdu, { command_status: ESME_RINVCMDID });
    const session = this.session;
    this.host.report({ type: 'bind_received' });
    let accepted = false;
    this.runHandler(
      pdu,
      () => decide(pdu, session),
      (init) => {
        // Closing while the bind was decided: refuse it rather than leave it unanswered.
        if (session.state !== 'binding') return { command_status: ESME_RBINDFAIL };
        accepted = (init.command_status ?? 0) === 0;
        return init;
      },
      // Reported after bind_resp is queued, so nothing a state handler sends (a waiting receipt,
      // an MO) reaches the peer before it knows it is bound.
      () => this.host.report(accepted ? { type: 'bind_accepted', command: pdu.command, systemId: pdu.system_id } : { type: 'bind_refused' }),
    );
  }

  /** Runs a handler, answers with what it gives (or the status of what it throws). */
  private runHandler(
    pdu: Pdu,
    // biome-ignore lint/suspicious/noConfusingVoidType: what a request handler returns
    run: () => ResponseInit | void | Promise<ResponseInit | void>,
    before?: (init: ResponseInit) => ResponseInit,
    after?: () => void,
  ): void {
    this.active++;
    const finish = (init: ResponseInit): void => {
      this.active--;
      if (this.session.state !== 'closed') this.respond(pdu, before === undefined ? init : before(init));
      after?.();
      this.host.settled();
    };
    const fail = (err: unknown): void => {
      if (err instanceof SmppError) return finish({ command_status: err.status });
      this.log.error(
        { err: err instanceof Error ? (err.stack ?? err.message) : String(err), command: pdu.command },
        'request handler failed; answering ESME_RSYSERR',
      );
      finish({ command_status: ESME_RSYSERR });
    };
    try {
      const out = run();
      if (isThenable(out)) out.then((init) => finish(init ?? {}), fail);
      else finish(out ?? {});
    } catch (err) {
      fail(err);
    }
  }
}

function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === 'function';
}
