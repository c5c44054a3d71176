// Carrier message ids: the same id reaches us in submit_sm_resp and, later, in the receipt, but
// carriers differ in case, leading zeros and even base (hex in one, decimal in the other).

/** The stored form of an id: trimmed, lower case, without leading zeros ("0" stays "0"). */
export function foldId(raw: string): string {
  const s = raw
    .trim()
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
  return s;
}

/**
 * How a carrier writes ids in its receipts, next to its submit_sm_resp: `auto`, the same id (case
 * and leading zeros aside); `hex`, the receipt carries in hex the id the response gave in
 * decimal; `dec`, the receipt carries in decimal the id the response gave in hex. Converting only
 * when the operator says so keeps one message's receipt from landing on another whose id happens
 * to be the first one's in the other base.
 */
export type IdHint = 'hex' | 'dec' | 'auto';

/**
 * The stored forms (folded submit_sm_resp ids) a receipt's id may match, best first: the id
 * itself, then the conversion the connector's hint names.
 */
export function receiptIdCandidates(raw: string, hint: IdHint): string[] {
  const folded = foldId(raw);
  const out = [folded];
  if (folded.length === 0 || folded.length > 32) return out;
  if (hint === 'hex' && /^[0-9a-f]+$/.test(folded)) {
    const dec = BigInt(`0x${folded}`).toString(10);
    if (!out.includes(dec)) out.push(dec);
  }
  if (hint === 'dec' && /^[0-9]+$/.test(folded)) {
    const hex = BigInt(folded).toString(16);
    if (!out.includes(hex)) out.push(hex);
  }
  return out;
}

/** The forms under which receipts for a response id `raw` may have been parked (the reverse of receiptIdCandidates). */
export function parkedIdCandidates(raw: string, hint: IdHint): string[] {
  return receiptIdCandidates(raw, hint === 'hex' ? 'dec' : hint === 'dec' ? 'hex' : 'auto');
}
