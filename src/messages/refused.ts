// Why intake refused a message, in words every door can answer in (an SMPP status, an HTTP code).
import { GatewayError } from '../errors.js';

export type RefusalReason =
  | 'unknown_account'
  | 'account_disabled'
  | 'throttled'
  | 'invalid_destination'
  | 'invalid_source'
  | 'invalid_validity'
  | 'policy'
  | 'no_route'
  | 'too_large'
  /** UCS2 that is not UTF-16BE (little-endian, an odd number of octets). */
  | 'invalid_coding'
  /** A user data header that does not parse, or one given together with SAR TLVs. */
  | 'invalid_header'
  /** More parts than the account may send in one message. */
  | 'too_many_parts';

export class Refused extends GatewayError {
  constructor(
    readonly reason: RefusalReason,
    message: string = reason,
  ) {
    super('MESSAGE_REFUSED', message);
  }
}
