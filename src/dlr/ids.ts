// Carrier message ids: the same id reaches us in submit_sm_resp and, later, in the receipt, but
// carriers differ in case, leading zeros and even base (hex in one, decimal in the other).

/** The stored form of an id: trimmed, lower case, without leading zeros ("0" stays "0"). */
export function foldId(raw: string): string {
  const s = raw.trim().toLowerCase().replace(/^0+(?=.)/, '');
  return s;
}

export type IdHint = 'hex' | 'dec' | 'auto';

/**
 * The stored forms a receipt's id may match, best first: the id itself (folded), then, as the
 * connector's hint allows, the id read as hex and written in decimal, or read as decimal and
 * written in hex.
 */
export function receiptIdCandidates(raw: string, hint: IdHint): string[] {
  const folded = foldId(raw);
  const out = [folded];
  if (folded.length === 0 || folded.length > 32) return out;
  if ((hint === 'hex' || hint === 'auto') && /^[0-9a-f]+$/.test(folded)) {
    const dec = BigInt(`0x${folded}`).toString(10);
    if (!out.includes(dec)) out.push(dec);
  }
  if ((hint === 'dec' || hint === 'auto') && /^[0-9]+$/.test(folded)) {
    const hex = BigInt(folded).toString(16);
    if (!out.includes(hex)) out.push(hex);
  }
  return out;
}

/** The gateway's own id for a ledger row, as an account sees it. */
export function formatMessageId(id: number, format: 'hex' | 'dec'): string {
  return format === 'dec' ? String(id) : id.toString(16);
}

/** The ledger row for an id the account gave back (query_sm, cancel_sm), or undefined. */
export function parseMessageId(text: string, format: 'hex' | 'dec'): number | undefined {
  const t = text.trim().toLowerCase();
  if (!(format === 'dec' ? /^[0-9]{1,15}$/ : /^[0-9a-f]{1,13}$/).test(t)) return undefined;
  const n = parseInt(t, format === 'dec' ? 10 : 16);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
