// In-place edits of PDUs we encoded ourselves, for the hot path: sending a stored submit_sm to a
// carrier must not decode and re-encode it only to change one byte.

const HEADER = 16;

function skipCString(b: Buffer, at: number): number {
  const end = b.indexOf(0, at);
  if (end < 0) throw new RangeError('unterminated C-Octet String in an encoded PDU');
  return end + 1;
}

/** Offset of registered_delivery in an encoded submit_sm (SMPP 3.4 §4.4.1 field order). */
export function registeredDeliveryOffset(submitSm: Buffer): number {
  let at = skipCString(submitSm, HEADER); // service_type
  at = skipCString(submitSm, at + 2); // source_addr_ton, source_addr_npi, source_addr
  at = skipCString(submitSm, at + 2); // dest_addr_ton, dest_addr_npi, destination_addr
  at = skipCString(submitSm, at + 3); // esm_class, protocol_id, priority_flag, schedule_delivery_time
  at = skipCString(submitSm, at); // validity_period
  if (at >= submitSm.length) throw new RangeError('submit_sm ends before registered_delivery');
  return at;
}
