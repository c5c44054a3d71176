// ESME passwords are kept as scrypt hashes; address allow-lists as CIDR blocks.
import { createHmac, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
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

/**
 * scrypt checks running at once, at most: they run on libuv's thread pool (4 threads), which also
 * flushes the database; a burst of binds must not hold up every acknowledgement behind it.
 */
const MAX_CHECKS = 2;
let running = 0;
const waiting: Array<() => void> = [];

async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CHECKS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Checks a password against a stored hash without blocking the event loop. */
export function verifyPassword(password: string, stored: string): Promise<boolean> {
  return slot(() => scryptCheck(password, stored));
}

/**
 * Remembers passwords that passed scrypt, as an HMAC under a key that lives only in this process,
 * so an account that binds again (1,000 binds of one account, a reconnect storm) costs an HMAC
 * instead of 40 ms of scrypt each. A changed hash (new password) misses; wrong passwords always
 * pay the full scrypt.
 */
export class VerifiedPasswords {
  private readonly key = randomBytes(32);
  private readonly seen = new Map<string, { stored: string; mac: Buffer }>();
  private readonly checking = new Map<string, Promise<boolean>>();

  constructor(private readonly check: (password: string, stored: string) => Promise<boolean> = verifyPassword) {}

  async verify(systemId: string, password: string, stored: string): Promise<boolean> {
    const mac = createHmac('sha256', this.key).update(password).digest();
    const hit = this.seen.get(systemId);
    if (hit && hit.stored === stored && timingSafeEqual(hit.mac, mac)) return true;
    // Binds that arrive together with the same credentials share one check.
    const key = `${systemId}\u0000${stored}\u0000${mac.toString('base64')}`;
    let check = this.checking.get(key);
    if (!check) {
      check = this.check(password, stored).finally(() => this.checking.delete(key));
      this.checking.set(key, check);
    }
    const ok = await check;
    if (ok) this.seen.set(systemId, { stored, mac });
    return ok;
  }
}

function scryptCheck(password: string, stored: string): Promise<boolean> {
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
