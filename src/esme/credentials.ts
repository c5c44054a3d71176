// ESME passwords are kept as scrypt hashes; address allow-lists as CIDR blocks.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LEN = 32;

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEY_LEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Checks a password against a stored hash without blocking the event loop. */
export function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return Promise.resolve(false);
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  // A damaged hash never lets anyone in.
  if (expected.length < 16 || salt.length < 8 || ![n, r, p].every((x) => Number.isInteger(x) && x > 0)) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      scrypt(password, salt, expected.length, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, got) => {
        resolve(!err && got.length === expected.length && timingSafeEqual(got, expected));
      });
    } catch {
      resolve(false);
    }
  });
}

/** Parses `10.0.0.0/8` or `2001:db8::/32` (a bare address is a /32 or /128); throws on nonsense. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const t = text.trim();
  const slash = t.indexOf('/');
  const address = slash < 0 ? t : t.slice(0, slash);
  const bits = slash < 0 ? undefined : t.slice(slash + 1);
  const version = isIP(address);
  if (version === 0) throw new Error(`${text} is not an IP address or CIDR block`);
  const max = version === 4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) throw new Error(`${text}: prefix must be 0..${max}`);
  const prefix = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`${text}: prefix must be 0..${max}`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A matcher for a CIDR list; an empty list allows every address. */
export function addressFilter(cidrs: readonly string[]): (address: string) => boolean {
  if (cidrs.length === 0) return () => true;
  const list = new BlockList();
  for (const c of cidrs) {
    const { address, prefix, family } = parseCidr(c);
    list.addSubnet(address, prefix, family);
  }
  return (address: string) => {
    // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d.
    const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    const family = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
    return isIP(plain) !== 0 && list.check(plain, family);
  };
}
