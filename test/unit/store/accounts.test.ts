// AccountStore: add/set/remove/get/list, the validation of every field (InvalidInputError with a
// message that says what is wrong), and the password kept only as an scrypt hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError } from '../../../src/errors.js';
import { verifyPassword } from '../../../src/store/credentials.js';
import { AccountStore, type AccountInput, type BindType } from '../../../src/store/accounts.js';
import { configVersion } from '../../../src/store/db.js';
import { RouteStore } from '../../../src/store/routes.js';
import { ConnectorStore } from '../../../src/store/connectors.js';
import { tmpDb } from '../../helpers/tmpdb.js';

function invalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, message);
    return true;
  });
}

function store(t: Parameters<typeof tmpDb>[0]) {
  const h = tmpDb(t);
  let now = 1_000;
  return { ...h, accounts: new AccountStore(h.db, () => now), tick: (ms: number) => (now += ms) };
}

test('add with defaults, then get and list', (t) => {
  const { accounts, db } = store(t);
  const a = accounts.add('alice', { password: 'secret' });
  assert.deepEqual(
    { ...a, passwordHash: undefined },
    {
      id: 1,
      systemId: 'alice',
      passwordHash: undefined,
      tps: 0,
      window: 10,
      maxBinds: 4,
      allow: [],
      bindTypes: ['tx', 'rx', 'trx'],
      idFormat: 'hex',
      maxPriority: 0,
      dc0: 'gsm',
      fold: false,
      maxParts: 10,
      enabled: true,
    },
  );
  assert.deepEqual(accounts.get('alice'), a);
  assert.equal(accounts.get('bob'), undefined);
  accounts.add('Bob', { password: 'x' });
  accounts.add('007', { password: 'x' });
  assert.deepEqual(
    accounts.list().map((x) => x.systemId),
    ['007', 'Bob', 'alice'],
    'ordered by system_id (binary collation)',
  );
  assert.deepEqual(db.prepare("SELECT created_at, updated_at FROM accounts WHERE system_id = 'alice'").get(), { created_at: 1_000, updated_at: 1_000 });
});

test('add with every field given', (t) => {
  const { accounts } = store(t);
  const a = accounts.add('full', {
    password: '12345678',
    tps: 2.5,
    window: 1,
    maxBinds: 1,
    allow: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'],
    bindTypes: ['rx'],
    idFormat: 'dec',
    maxPriority: 2,
    enabled: false,
  });
  assert.equal(a.maxPriority, 2);
  assert.equal(a.tps, 2.5);
  assert.equal(a.window, 1);
  assert.equal(a.maxBinds, 1);
  assert.deepEqual(a.allow, ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
  assert.deepEqual(a.bindTypes, ['rx']);
  assert.equal(a.idFormat, 'dec');
  assert.equal(a.enabled, false);
  assert.deepEqual(accounts.get('full'), a);
});

test('the password is stored as an scrypt hash and never in plain text, in the file or its WAL', async (t) => {
  const { accounts, path, dir, db } = store(t);
  const password = 'Pw9!xQz7';
  const a = accounts.add('hashme', { password });
  assert.match(a.passwordHash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(!a.passwordHash.includes(password));
  assert.equal(await verifyPassword(password, a.passwordHash), true);
  assert.equal(await verifyPassword('Pw9!xQz8', a.passwordHash), false);
  // Every file SQLite wrote (main file, -wal, -shm), before and after a checkpoint.
  const grep = (): void => {
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f));
      assert.equal(bytes.includes(Buffer.from(password, 'latin1')), false, `${f} holds the password`);
      assert.equal(bytes.includes(Buffer.from(password, 'utf16le')), false, `${f} holds the password (UTF-16)`);
    }
  };
  grep();
  db.pragma('wal_checkpoint(TRUNCATE)');
  grep();
  assert.ok(readFileSync(path).includes(Buffer.from('hashme')), 'the grep can see what is in the file');
});

test('two accounts with the same password get different hashes (salted)', (t) => {
  const { accounts } = store(t);
  const a = accounts.add('a', { password: 'same' });
  const b = accounts.add('b', { password: 'same' });
  assert.notEqual(a.passwordHash, b.passwordHash);
});

test('system_id must be 1 to 15 printable ASCII characters', (t) => {
  const { accounts } = store(t);
  for (const bad of ['', 'a'.repeat(16), 'has space', 'tab\there', 'ünï', 'nul\0', 'new\nline']) {
    invalid(() => accounts.add(bad, { password: 'x' }), /system_id must be 1 to 15 printable ASCII characters/);
  }
  assert.equal(accounts.add('a'.repeat(15), { password: 'x' }).systemId, 'a'.repeat(15));
  assert.equal(accounts.add('!~#$%&', { password: 'x' }).systemId, '!~#$%&');
  assert.equal(accounts.list().length, 2);
});

test('a duplicate system_id is refused', (t) => {
  const { accounts } = store(t);
  accounts.add('dup', { password: 'x' });
  invalid(() => accounts.add('dup', { password: 'y' }), /account dup exists already/);
});

test('password must be 1 to 8 octets, one per character as SMPP carries them', (t) => {
  const { accounts } = store(t);
  invalid(() => accounts.add('a', { password: '' }), /password must be 1 to 8 octets/);
  invalid(() => accounts.add('a', { password: '123456789' }), /password must be 1 to 8 octets \(the SMPP maximum is 8\), got 9/);
  // Four keys are 8 UTF-16 units (the old check passed them) but 16 octets: no ESME could ever bind.
  invalid(() => accounts.add('a', { password: '🔑🔑🔑🔑' }), /^password has U\+1F511, which SMPP cannot carry \(16 octets in UTF-8/);
  invalid(() => accounts.add('a', { password: 'ab\u0000' }), /password has a NUL/);
  accounts.add('latin', { password: 'grüße' }); // one octet each, as the gateway reads the wire
  accounts.add('a', { password: '1' });
  accounts.add('b', { password: '12345678' });
  invalid(() => accounts.set('a', { password: '' }), /password must be 1 to 8/);
  invalid(() => accounts.set('a', { password: 'ninechars' }), /password must be 1 to 8/);
});

test('numeric fields: tps ≥ 0, window ≥ 1, max binds ≥ 1, whole numbers where they must be', (t) => {
  const { accounts } = store(t);
  const cases: Array<[AccountInput, RegExp]> = [
    [{ tps: -1 }, /tps must be a number ≥ 0/],
    [{ tps: Number.NaN }, /tps must be a number ≥ 0/],
    [{ tps: Number.POSITIVE_INFINITY }, /tps must be a number ≥ 0/],
    [{ window: 0 }, /window must be a whole number ≥ 1/],
    [{ window: -3 }, /window must be a whole number ≥ 1/],
    [{ window: 1.5 }, /window must be a whole number ≥ 1/],
    [{ maxBinds: 0 }, /max binds must be a whole number ≥ 1/],
    [{ maxBinds: 2.5 }, /max binds must be a whole number ≥ 1/],
  ];
  for (const [input, message] of cases) invalid(() => accounts.add('n', { password: 'x', ...input }), message);
  assert.equal(accounts.list().length, 0, 'nothing was added by a refused input');
  assert.equal(accounts.add('zero', { password: 'x', tps: 0 }).tps, 0);
  assert.equal(accounts.add('frac', { password: 'x', tps: 0.5 }).tps, 0.5);
});

test('allow: every entry must be an address or CIDR block', (t) => {
  const { accounts } = store(t);
  invalid(() => accounts.add('c', { password: 'x', allow: ['10.0.0.0/8', 'not-an-ip'] }), /not-an-ip is not an IP address or CIDR block/);
  invalid(() => accounts.add('c', { password: 'x', allow: ['10.0.0.0/33'] }), /10\.0\.0\.0\/33: prefix must be 0\.\.32/);
  invalid(() => accounts.add('c', { password: 'x', allow: ['2001:db8::/129'] }), /prefix must be 0\.\.128/);
  invalid(() => accounts.add('c', { password: 'x', allow: ['10.0.0.0/eight'] }), /prefix must be/);
  invalid(() => accounts.add('c', { password: 'x', allow: ['256.1.1.1'] }), /not an IP address/);
  assert.deepEqual(accounts.add('c', { password: 'x', allow: ['0.0.0.0/0', '::/0'] }).allow, ['0.0.0.0/0', '::/0']);
});

test('bind types: only tx, rx, trx, and at least one', (t) => {
  const { accounts } = store(t);
  invalid(() => accounts.add('b', { password: 'x', bindTypes: ['tx', 'txrx' as BindType] }), /bind type txrx is not one of tx, rx, trx/);
  invalid(() => accounts.add('b', { password: 'x', bindTypes: [] }), /at least one bind type/);
  assert.deepEqual(accounts.add('b', { password: 'x', bindTypes: ['trx', 'tx'] }).bindTypes, ['trx', 'tx']);
});

test('max priority: 0 to 3, a whole number; set changes it alone', (t) => {
  const { accounts } = store(t);
  accounts.add('a', { password: 'x' });
  for (const bad of [-1, 4, 1.5]) invalid(() => accounts.set('a', { maxPriority: bad }), /max priority/);
  assert.equal(accounts.set('a', { maxPriority: 3 }).maxPriority, 3);
  assert.equal(accounts.set('a', { tps: 5 }).maxPriority, 3);
});

test('content settings: dc0 of gsm, gsm-packed, latin1, ascii; folding; max parts 1 to 255', (t) => {
  const { accounts } = store(t);
  accounts.add('a', { password: 'x' });
  invalid(() => accounts.set('a', { dc0: 'utf8' as 'gsm' }), /dc0 must be one of gsm, gsm-packed, latin1, ascii/);
  for (const bad of [0, 256, 2.5]) invalid(() => accounts.set('a', { maxParts: bad }), /max parts must be a whole number from 1 to 255/);
  const a = accounts.set('a', { dc0: 'latin1', fold: true, maxParts: 3 });
  assert.deepEqual([a.dc0, a.fold, a.maxParts], ['latin1', true, 3]);
  assert.deepEqual([accounts.set('a', { tps: 1 }).dc0, accounts.get('a')!.fold], ['latin1', true], 'kept by a set of something else');
});

test('id format: hex or dec', (t) => {
  const { accounts } = store(t);
  invalid(() => accounts.add('i', { password: 'x', idFormat: 'oct' as 'hex' }), /id format must be hex or dec/);
});

test('set changes only what is given and keeps the hash unless a password is given', async (t) => {
  const { accounts, db, tick } = store(t);
  const before = accounts.add('s', { password: 'old', tps: 5, allow: ['10.0.0.0/8'], bindTypes: ['tx'] });
  tick(500);
  const after = accounts.set('s', { window: 3 });
  assert.deepEqual(after, { ...before, window: 3 });
  assert.deepEqual(db.prepare("SELECT created_at, updated_at FROM accounts WHERE system_id = 's'").get(), { created_at: 1_000, updated_at: 1_500 });
  const changed = accounts.set('s', { password: 'new', allow: [], enabled: false, idFormat: 'dec' });
  assert.notEqual(changed.passwordHash, before.passwordHash);
  assert.equal(await verifyPassword('new', changed.passwordHash), true);
  assert.equal(await verifyPassword('old', changed.passwordHash), false);
  assert.deepEqual(changed.allow, []);
  assert.equal(changed.enabled, false);
  assert.equal(changed.idFormat, 'dec');
  assert.equal(changed.tps, 5);
  assert.deepEqual(changed.bindTypes, ['tx']);
  assert.equal(accounts.set('s', { enabled: true }).enabled, true);
});

test('set validates like add and refuses an unknown account', (t) => {
  const { accounts } = store(t);
  accounts.add('v', { password: 'x' });
  invalid(() => accounts.set('nobody', { tps: 1 }), /no account nobody/);
  invalid(() => accounts.set('v', { tps: -0.1 }), /tps/);
  invalid(() => accounts.set('v', { allow: ['bogus'] }), /bogus is not an IP address/);
  invalid(() => accounts.set('v', { bindTypes: [] }), /at least one bind type/);
  assert.equal(accounts.get('v')!.tps, 0, 'unchanged after the refusals');
});

test('remove: once, then undefined; the account is gone', (t) => {
  const { accounts } = store(t);
  accounts.add('r', { password: 'x' });
  assert.deepEqual(accounts.remove('r'), { id: 1, deletedMessages: 0, droppedOutbox: 0 });
  assert.equal(accounts.get('r'), undefined);
  assert.equal(accounts.remove('r'), undefined);
  assert.deepEqual(accounts.list(), []);
});

test('every change bumps config_version once; refusals and no-op removes do not', (t) => {
  const { accounts, db } = store(t);
  assert.equal(configVersion(db), 0);
  accounts.add('cv', { password: 'x' });
  assert.equal(configVersion(db), 1);
  accounts.set('cv', { tps: 3 });
  assert.equal(configVersion(db), 2);
  assert.throws(() => accounts.add('cv', { password: 'x' }));
  assert.throws(() => accounts.set('cv', { window: 0 }));
  assert.equal(accounts.remove('ghost'), undefined);
  assert.equal(configVersion(db), 2);
  accounts.remove('cv');
  assert.equal(configVersion(db), 3);
});

test('remove refuses while an MO route delivers to the account', (t) => {
  const { accounts, db } = store(t);
  accounts.add('mo-target', { password: 'x' });
  new ConnectorStore(db).add('c1', { host: 'h', port: 2775, systemId: 's', password: 'p' });
  new RouteStore(db).addMo({ account: 'mo-target', shortCode: '12345' });
  invalid(() => accounts.remove('mo-target'), /mo-target is used by MO route/);
  assert.ok(accounts.get('mo-target'));
});
