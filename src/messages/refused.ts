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
  | 'too_large';

export class Refused extends GatewayError {
  constructor(
    readonly reason: RefusalReason,
    message: string = reason,
  ) {
    super('MESSAGE_REFUSED', message);
  }
}
