// The peer's bytes: framing, decoding, and answering what cannot be read (an unknown command_id
// with generic_nack, a request with a bad body with its own response and the status naming the
// fault). Responses go to Outbound; a request goes to the Responder if its direction and the
// session's state allow it, and is refused here if not; the peer's unbind goes to the Session (its
// state machine decides it), and a lost framing is reported as an event.
import type { Logger } from '../log.js';
import { GatewayError } from '../errors.js';
import { decode } from './codec.js';
import { COMMANDS, COMMANDS_BY_ID, ESME_RALYBND, ESME_RINVBNDSTS, ESME_RINVCMDID, ESME_RINVCMDLEN } from './defs.js';
import { PduError } from './errors.js';
import { Framer } from './framer.js';
import type { Outbound } from './outbound.js';
import type { Pdu } from './pdu.js';
import type { Responder } from './responder.js';
import { isBindCommand, isBound, mayReceive, peerSends, type SessionEvent, type SessionRole, type SessionState } from './states.js';

/** Invalid PDUs per session logged at warn; the rest at debug. */
const INVALID_PDUS_LOGGED = 10;

/** How the Reader reaches its Session (built once per session). */
export interface ReaderHost {
  readonly role: SessionRole;
  state(): SessionState;
  /** The peer's unbind request. */
  unbind(pdu: Pdu): void;
  /** framing_lost. */
  report(event: SessionEvent): void;
}

export class Reader {
  /** Framing was lost: input is read and dropped until the connection ends. */
  discarding = false;
  private invalidPdus = 0;
  private readonly framer: Framer;
  private readonly onFrameBound = (buf: Buffer, start: number): void => this.onFrame(buf, start);

  constructor(
    private readonly maxPduSize: number,
    private readonly log: Logger,
    private readonly outbound: Outbound,
    private readonly responder: Responder,
    private readonly host: ReaderHost,
  ) {
    this.framer = new Framer(maxPduSize);
  }

  read(chunk: Buffer): void {
    if (this.discarding) return;
    try {
      this.framer.push(chunk, this.onFrameBound);
    } catch (err) {
      // Framing is lost: nothing after this point can be trusted to start a PDU. Whatever else
      // comes is read and dropped (so closing sends FIN, not a reset over unread bytes).
      const e = err as Error;
      this.log.warn({ err: e.message }, 'framing lost; closing the connection');
      this.discarding = true;
      if (e instanceof GatewayError && e.code === 'SMPP_FRAMING') this.responder.nack(0, ESME_RINVCMDLEN);
      this.host.report({ type: 'framing_lost', reason: `framing error: ${e.message}` });
    }
  }

  private onFrame(buf: Buffer, start: number): void {
    if (this.host.state() === 'closed') return; // destroyed by a handler while this chunk was split
    let pdu: Pdu;
    try {
      pdu = decode(buf, start, this.maxPduSize);
    } catch (err) {
      if (!(err instanceof PduError)) throw err;
      this.onBadPdu(err);
      return;
    }
    if (COMMANDS.get(pdu.command)?.isResponse === true) this.outbound.onResponse(pdu);
    else this.onRequest(pdu);
  }

  private onRequest(pdu: Pdu): void {
    const cmd = pdu.command;
    const role = this.host.role;
    const state = this.host.state();
    if (cmd === 'enquire_link') return this.responder.respond(pdu, {});
    // A command that goes the wrong way on this link (deliver_sm from an ESME, …).
    if (!peerSends(role, cmd)) return this.responder.refuse(pdu, ESME_RINVCMDID);
    if (cmd === 'unbind') return this.host.unbind(pdu);
    if (!mayReceive(role, cmd, state)) return this.responder.refuse(pdu, isBindCommand(cmd) && isBound(state) ? ESME_RALYBND : ESME_RINVBNDSTS);
    // The inbound window, the bind decision (SMSC side) and the request handler.
    this.responder.handle(pdu);
  }

  private onBadPdu(err: PduError): void {
    const id = err.commandId ?? 0;
    const seq = err.sequenceNumber ?? 0;
    const cmd = COMMANDS_BY_ID.get(id);
    // Every one is answered; only the first few per session are worth an operator's line (a peer
    // sending nothing else must not fill the log).
    this.invalidPdus++;
    const line = { err: err.message, commandId: `0x${id.toString(16)}`, seq };
    if (this.invalidPdus <= INVALID_PDUS_LOGGED) this.log.warn(line, 'invalid PDU');
    else this.log.debug(line, 'invalid PDU');
    if (this.invalidPdus === INVALID_PDUS_LOGGED) this.log.warn({ logged: INVALID_PDUS_LOGGED }, 'more invalid PDUs on this session are logged at debug only');
    if (cmd === undefined) return this.responder.nack(seq, err.status); // unknown command_id: generic_nack
    if (cmd.isResponse) return this.outbound.onBadResponse(seq, err);
    // A request whose header is sound but body is not: answer it with its own response and the
    // status naming the fault (SMPP 3.4 §3.3.1 keeps generic_nack for bad headers).
    if (cmd.pair) this.responder.respond({ command: cmd.name, sequence_number: seq } as Pdu, { command_status: err.status });
    else this.responder.nack(seq, err.status);
  }
}
