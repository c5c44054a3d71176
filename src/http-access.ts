// Who may read the operator pages (/status, and the pages that come after it): with http.token set,
// whoever presents it (Bearer, or Basic with the token as the password, any user name); without one,
// only this machine (loopback), since the pages list accounts, connectors and traffic. /metrics,
// /healthz and /readyz stay open on http.host for scrapers and probes.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export type Access = 'ok' | 'unauthorized' | 'forbidden';

/** Whether a request from `remote` with header `authorization` may read an operator page. */
export function operatorAccess(remote: string | undefined, authorization: string | undefined, token: string): Access {
  if (token === '') return isLoopback(remote) ? 'ok' : 'forbidden';
  const presented = credential(authorization);
  return presented !== undefined && same(presented, token) ? 'ok' : 'unauthorized';
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/** The token a request presents: `Bearer T`, or `Basic base64(user:T)`. */
function credential(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (value === undefined) return undefined;
  if (/^bearer$/i.test(scheme ?? '')) return value;
  if (/^basic$/i.test(scheme ?? '')) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/** Compares without leaking, through its timing, how much of the token was right. */
function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
