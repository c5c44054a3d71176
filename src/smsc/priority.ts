// The priority lane: an account's priority_flag counts only up to what the account is granted
// (max_priority), so a bulk sender cannot jump the queue by setting it.

/** True when a message flagged `flag` from an account granted `granted` takes the priority lane. */
export function inPriorityLane(flag: number, granted: number): boolean {
  return Math.min(flag, granted) > 0;
}

/** Offset of priority_flag in an encoded submit_sm (SMPP 3.4 §4.4.1: after esm_class and protocol_id). */
export function priorityFlagOffset(submitSm: Buffer): number {
  const skip = (at: number) => submitSm.indexOf(0, at) + 1;
  const dest = skip(skip(skip(16) + 2) + 2); // past service_type, source and destination addresses
  return dest + 2;
}
