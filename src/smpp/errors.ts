// SMPP errors: a status to answer the peer with, a PDU that cannot be read, a lost framing, a
// response timeout, a closed session. Each has a stable `code` (see GatewayError).
import { GatewayError } from '../errors.js';
import { statusName } from './defs.js';

/** A failure that the peer is answered with: carries the command_status to send. */
export class SmppError extends GatewayError {
  readonly status: number;
  constructor(status: number, message?: string, code = 'SMPP_STATUS') {
    super(code, message ?? statusName(status));
    this.status = status;
  }
}

/**
 * A PDU that cannot be decoded or encoded. `field` names the offending field; `commandId` and
 * `sequenceNumber` are filled in when the header was readable, so the peer can be answered.
 */
export class PduError extends SmppError {
  readonly field: string | undefined;
  commandId: number | undefined;
  sequenceNumber: number | undefined;
  constructor(status: number, message: string, field?: string) {
    super(status, field ? `${field}: ${message}` : message, 'SMPP_INVALID_PDU');
    this.field = field;
  }
}

/**
 * The peer answered one of our requests with a response that cannot be decoded: the request is
 * not acknowledged (send it again), and nothing is wrong with the request itself (unlike a
 * PduError from encoding it, which no retry can fix).
 */
export class BadResponseError extends SmppError {
  constructor(status: number, message: string) {
    super(status, `unreadable response: ${message}`, 'SMPP_BAD_RESPONSE');
  }
}

/** The byte stream cannot be split into PDUs any more (bad command_length): the link must close. */
export class FramingError extends SmppError {
  constructor(
    message: string,
    readonly commandLength: number,
  ) {
    super(0x00000002 /* ESME_RINVCMDLEN */, message, 'SMPP_FRAMING');
  }
}

/** A request got no response within the response timeout. */
export class ResponseTimeoutError extends GatewayError {
  constructor(command: string, sequence: number, ms: number) {
    super('SMPP_RESPONSE_TIMEOUT', `${command} #${sequence}: no response within ${ms} ms`);
  }
}

/** The session closed (or was closed) before the request could complete. */
export class SessionClosedError extends GatewayError {
  constructor(reason: string) {
    super('SMPP_SESSION_CLOSED', `session closed: ${reason}`);
  }
}

/** The session is not in a state that allows this operation. */
export class SessionStateError extends GatewayError {
  constructor(message: string) {
    super('SMPP_SESSION_STATE', message);
  }
}

/** A bind was answered with an error status. */
export class BindError extends SmppError {
  constructor(status: number, command: string) {
    super(status, `${command} refused: ${statusName(status)}`, 'SMPP_BIND_FAILED');
  }
}
