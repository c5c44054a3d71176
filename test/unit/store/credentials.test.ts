// src/store/credentials.ts (what AccountStore keeps): scrypt password hashes, CIDR parsing and the
// address filter a bind is checked against (IPv4, IPv6, IPv4-mapped IPv6, empty list = any).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedPasswords, addressFilter, hashPassword, parseCidr, verifyPassword } from '../../../src/store/credentials.js';

test('hashPassword: scrypt$N$r$p$salt$hash with a 16-byte salt and a 32-byte key, salted per call', () => {
  const h = hashPassword('pw');
  const parts = h.split('$');
  assert.equal(parts.length, 6);
  assert.deepEqual(parts.slice(0, 4), ['scrypt', '16384', '8', '1']);
  assert.equal(Buffer.from(parts[4]!, 'base64').length, 16);
  assert.equal(Buffer.from(parts[5]!, 'base64').length, 32);
  assert.notEqual(hashPassword('pw'), h);
});

test('verifyPassword: the right password only, case and length sensitive', async () => {
  const h = hashPassword('Secret1');
  assert.equal(await verifyPassword('Secret1', h), true);
  for (const wrong of ['secret1', 'Secret', 'Secret12', '', 'Secret1 ']) assert.equal(await verifyPassword(wrong, h), false, wrong);
});

test('verifyPassword: a hash that is not ours is false, not an error', async () => {
  const h = hashPassword('pw');
  assert.equal(await verifyPassword('pw', ''), false);
  assert.equal(await verifyPassword('pw', 'pw'), false, 'a plain-text value is not accepted as a hash');
  assert.equal(await verifyPassword('pw', h.replace(/^scrypt/, 'bcrypt')), false);
  assert.equal(await verifyPassword('pw', `${h}$extra`), false);
  assert.equal(await verifyPassword('pw', h.split('$').slice(0, 5).join('$')), false);
  // A hash with a different (valid) cost still verifies: N, r, p are read from the string.
  const parts = h.split('$');
  assert.equal(await verifyPassword('pw', ['scrypt', '1024', '8', '1', parts[4], parts[5]].join('$')), false, 'other cost, other key');
});

test('verifyPassword reads its cost parameters from the stored string', async () => {
  // A hash made elsewhere with N=1024 (e.g. by an older release) is checked with N=1024.
  const { scryptSync } = await import('node:crypto');
  const salt = Buffer.from('0123456789abcdef');
  const key = scryptSync('pw', salt, 32, { N: 1024, r: 8, p: 1 });
  const stored = `scrypt$1024$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
  assert.equal(await verifyPassword('pw', stored), true);
  assert.equal(await verifyPassword('px', stored), false);
});

test('verifyPassword: corrupt cost parameters resolve false instead of rejecting', async () => {
  const salt = Buffer.from('salt').toString('base64');
  const key = Buffer.alloc(32).toString('base64');
  await assert.doesNotReject(verifyPassword('pw', `scrypt$abc$8$1$${salt}$${key}`));
  assert.equal(await verifyPassword('pw', `scrypt$abc$8$1$${salt}$${key}`).catch(() => 'rejected'), false);
  assert.equal(await verifyPassword('pw', `scrypt$1000$8$1$${salt}$${key}`).catch(() => 'rejected'), false, 'N not a power of two');
});

test('verifyPassword: a stored hash with an empty key accepts no password', async () => {
  const salt = Buffer.from('salt').toString('base64');
  assert.equal(await verifyPassword('anything', `scrypt$16384$8$1$${salt}$`), false);
});

test('parseCidr: IPv4 and IPv6 blocks, bare addresses as /32 and /128, surrounding blanks', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  assert.deepEqual(parseCidr('192.0.2.1'), { address: '192.0.2.1', prefix: 32, family: 'ipv4' });
  assert.deepEqual(parseCidr('0.0.0.0/0'), { address: '0.0.0.0', prefix: 0, family: 'ipv4' });
  assert.deepEqual(parseCidr('2001:db8::/32'), { address: '2001:db8::', prefix: 32, family: 'ipv6' });
  assert.deepEqual(parseCidr('::1'), { address: '::1', prefix: 128, family: 'ipv6' });
  assert.deepEqual(parseCidr('  172.16.0.0/12 '), { address: '172.16.0.0', prefix: 12, family: 'ipv4' });
});

test('parseCidr: nonsense throws with the offending text', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /is not an IP address or CIDR block/],
    ['example.com', /example\.com is not an IP address/],
    ['10.0.0/8', /not an IP address/],
    ['300.0.0.0/8', /not an IP address/],
    ['/8', /not an IP address/],
    ['10.0.0.0/33', /10\.0\.0\.0\/33: prefix must be 0\.\.32/],
    ['10.0.0.0/-1', /prefix must be 0\.\.32/],
    ['10.0.0.0/8.5', /prefix must be 0\.\.32/],
    ['10.0.0.0/x', /prefix must be 0\.\.32/],
    ['::/129', /prefix must be 0\.\.128/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseCidr(text), message, text);
});

test('parseCidr: a malformed prefix is refused, not read as some other number', () => {
  // "10.0.0.0/" (a truncated "/8") currently becomes /0: an allow-list that admits every address.
  for (const text of ['10.0.0.0/', '10.0.0.0/ ', '10.0.0.0/0x8', '10.0.0.0/1e1', '10.0.0.0/8/9', '10.0.0.0/+8']) {
    assert.throws(() => parseCidr(text), /prefix must be/, text);
  }
});

test('addressFilter: an empty list allows every address, even junk', () => {
  const any = addressFilter([]);
  for (const a of ['1.2.3.4', '::1', '::ffff:10.0.0.1', 'junk', '']) assert.equal(any(a), true, a);
});

test('addressFilter: IPv4 blocks and single addresses', () => {
  const f = addressFilter(['10.0.0.0/8', '192.0.2.7']);
  assert.equal(f('10.0.0.0'), true);
  assert.equal(f('10.255.255.255'), true);
  assert.equal(f('11.0.0.0'), false);
  assert.equal(f('9.255.255.255'), false);
  assert.equal(f('192.0.2.7'), true);
  assert.equal(f('192.0.2.8'), false);
  assert.equal(f('junk'), false);
  assert.equal(f(''), false);
});

test("addressFilter: a dual-stack socket's ::ffff:a.b.c.d matches the IPv4 rule", () => {
  const f = addressFilter(['127.0.0.1']);
  assert.equal(f('::ffff:127.0.0.1'), true);
  assert.equal(f('127.0.0.1'), true);
  assert.equal(f('::ffff:127.0.0.2'), false);
  assert.equal(f('::1'), false, 'IPv6 loopback is not IPv4 loopback');
  const block = addressFilter(['192.168.0.0/16']);
  assert.equal(block('::ffff:192.168.44.1'), true);
  assert.equal(block('::ffff:192.169.0.1'), false);
});

test('addressFilter: IPv6 blocks', () => {
  const f = addressFilter(['2001:db8::/32', '::1']);
  assert.equal(f('2001:db8::1'), true);
  assert.equal(f('2001:0db8:ffff::1'), true);
  assert.equal(f('2001:db9::1'), false);
  assert.equal(f('::1'), true);
  assert.equal(f('::2'), false);
  assert.equal(f('10.0.0.1'), false);
});

test('addressFilter: 0.0.0.0/0 admits IPv4 only; ::/0 admits everything (IPv4 is checked as ::ffff:a.b.c.d)', () => {
  const v4 = addressFilter(['0.0.0.0/0']);
  assert.equal(v4('203.0.113.9'), true);
  assert.equal(v4('::ffff:203.0.113.9'), true);
  assert.equal(v4('2001:db8::1'), false);
  const v6 = addressFilter(['::/0']);
  assert.equal(v6('2001:db8::1'), true);
  assert.equal(v6('203.0.113.9'), true);
  // An IPv4-mapped block matches the plain IPv4 peer, and a mapped address in hex form matches an IPv4 block.
  assert.equal(addressFilter(['::ffff:10.0.0.0/104'])('10.1.1.1'), true);
  assert.equal(addressFilter(['::ffff:10.0.0.0/104'])('11.1.1.1'), false);
  assert.equal(addressFilter(['10.0.0.0/8'])('::ffff:a00:1'), true);
});

test('addressFilter: an invalid CIDR throws when the filter is built', () => {
  assert.throws(() => addressFilter(['10.0.0.0/8', 'nope']), /nope is not an IP address/);
});

test('VerifiedPasswords: a password that passed once passes again without scrypt; a wrong one or a changed hash does not', async () => {
  let scrypts = 0;
  const v = new VerifiedPasswords((password, stored) => (scrypts++, verifyPassword(password, stored)));
  const stored = hashPassword('right');
  assert.equal(await v.verify('acme', 'wrong', stored), false);
  assert.equal(await v.verify('acme', 'right', stored), true);
  assert.equal(scrypts, 2);
  for (let i = 0; i < 5; i++) assert.equal(await v.verify('acme', 'right', stored), true);
  assert.equal(scrypts, 2, 'binding again costs no scrypt');
  assert.equal(await v.verify('acme', 'wrong', stored), false, 'a wrong password still pays scrypt and fails');
  assert.equal(scrypts, 3);
  assert.equal(await v.verify('acme', 'right', hashPassword('changed')), false, 'a new password: the old one no longer binds');
  assert.equal(await v.verify('other', 'right', stored), true, 'per account');
  assert.equal(scrypts, 5);
  // A burst of binds with the same credentials before any check finished: one scrypt between them.
  const burst = new VerifiedPasswords((password, stored) => (scrypts++, verifyPassword(password, stored)));
  scrypts = 0;
  const fresh = hashPassword('burst');
  assert.deepEqual(await Promise.all(Array.from({ length: 20 }, () => burst.verify('acme', 'burst', fresh))), Array(20).fill(true));
  assert.equal(scrypts, 1);
});

test('many password checks at once all resolve correctly (they queue for two scrypt slots)', async () => {
  const stored = hashPassword('pw');
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => verifyPassword(i % 3 === 0 ? 'bad' : 'pw', stored)));
  assert.deepEqual(
    results,
    Array.from({ length: 12 }, (_, i) => i % 3 !== 0),
  );
});
