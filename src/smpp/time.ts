// SMPP time fields (SMPP 3.4 §7.1.1): "YYMMDDhhmmsstnnp", absolute (p = + or -, nn quarter hours
// from UTC) or relative (p = R, a duration). The one place that reads and writes them (and the
// receipt text's shorter YYMMDDhhmm dates).

/** The moment a time field names, in ms since the epoch; undefined for an empty or invalid one. */
export function parseSmppTime(value: string, now: number): number | undefined {
  const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d)(\d\d)([+\-R])$/.exec(value);
  if (!m) return undefined;
  const [yy, mo, dd, hh, mi, ss, t, nn] = m.slice(1, 9).map(Number) as [number, number, number, number, number, number, number, number];
  const p = m[9];
  if (p === 'R') {
    // Relative: years and months as 365 and 30 days, as most SMSCs do.
    const days = yy * 365 + mo * 30 + dd;
    return now + ((days * 24 + hh) * 60 + mi) * 60_000 + ss * 1000 + t * 100;
  }
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59 || nn > 48) return undefined;
  const utc = Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss, t * 100);
  if (new Date(utc).getUTCDate() !== dd) return undefined; // 31 February and the like
  const offset = nn * 15 * 60_000;
  return p === '+' ? utc - offset : utc + offset;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** YYMMDDhhmm in UTC: the date format of a receipt's text (SMPP 3.4 Appendix B). */
export function formatReceiptDate(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}`;
}

/** The absolute SMPP time "YYMMDDhhmmss000+" (UTC, whole seconds) for an instant in ms since the epoch. */
export function formatSmppTime(ms: number): string {
  const seconds = Math.floor(ms / 1000) % 60;
  return `${formatReceiptDate(ms)}${two(seconds < 0 ? seconds + 60 : seconds)}000+`;
}
