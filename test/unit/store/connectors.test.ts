// ConnectorStore: add/set/remove/get/list, validation, removal refused while an MT route still
// sends through the connector, and the password sealed at rest (opened only by withPasswords).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, SecretError } from '../../../src/errors.js';
import { ConnectorStore, type ConnectorInput } from '../../../src/store/connectors.js';
import { configVersion, openDb } from '../../../src/store/db.js';
import { RouteStore } from '../../../src/store/routes.js';
import { KeyRing, type KeySources } from '../../../src/store/secrets.js';
import { tmpDb } from '../../helpers/tmpdb.js';

function invalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

const BASE = { host: 'smsc.example', port: 2775, systemId: 'gw', password: 'pw' };

function ring(dbPath: string, more: Partial<KeySources> = {}): KeyRing {
  return new KeyRing({ dbPath, keyFile: '', previousKeyFiles: '', env: {}, ...more });
}

function setup(t: Parameters<typeof tmpDb>[0]) {
  const h = tmpDb(t);
  let now = 5_000;
  const keys = ring(h.path);
  return { ...h, keys, connectors: new ConnectorStore(h.db, keys, () => now), routes: new RouteStore(h.db, () => now), tick: (ms: number) => (now += ms) };
}

const rawPassword = (db: ReturnType<typeof openDb>, id: string) => db.prepare('SELECT password FROM connectors WHERE id = ?').pluck().get(id) as string;
const passwords = (s: ConnectorStore) => Object.fromEntries(s.withPasswords().connectors.map((c) => [c.id, c.password]));

test('add with defaults, get, list in id order', (t) => {
  const { connectors } = setup(t);
  const c = connectors.add('carrier-b', BASE);
  assert.deepEqual(
    c,
    {
      id: 'carrier-b',
      host: 'smsc.example',
      port: 2775,
      systemId: 'gw',
      systemType: '',
      bind: 'trx',
      tps: 0,
      window: 10,
      tls: false,
      dlrId: 'auto',
      onTimeout: 'reconnect',
      forwardPriority: true,
      schedule: 'forward',
      dc0: 'gsm',
      enabled: true,
    },
    'no password: get and list never open it',
  );
  assert.deepEqual(connectors.withPasswords().connectors, [{ ...c, password: 'pw' }]);
  assert.deepEqual(connectors.get('carrier-b'), c);
  assert.equal(connectors.get('nope'), undefined);
  connectors.add('carrier-a', BASE);
  connectors.add('A.1_x-y', BASE);
  assert.deepEqual(
    connectors.list().map((x) => x.id),
    ['A.1_x-y', 'carrier-a', 'carrier-b'],
  );
});

test('add with every field', (t) => {
  const { connectors } = setup(t);
  const c = connectors.add('full', {
    host: '192.0.2.1',
    port: 1,
    systemId: '123456789012345',
    password: '12345678',
    systemType: 'VMA123456789',
    bind: 'txrx',
    tps: 12.5,
    window: 1,
    tls: true,
    dlrId: 'dec',
    forwardPriority: false,
    schedule: 'hold',
    enabled: false,
  });
  assert.deepEqual(connectors.get('full'), c);
  assert.equal(c.forwardPriority, false);
  assert.equal(connectors.set('full', { forwardPriority: true }).forwardPriority, true);
  assert.equal(c.schedule, 'hold');
  assert.throws(() => connectors.set('full', { schedule: 'later' as 'hold' }), /schedule must be forward or hold/);
  assert.equal(c.port, 1);
  assert.equal(c.bind, 'txrx');
  assert.equal(c.tls, true);
  assert.equal(c.dlrId, 'dec');
  assert.equal(c.enabled, false);
  assert.equal(connectors.add('maxport', { ...BASE, port: 65_535, password: '' }).port, 65_535, 'an empty password is allowed towards a carrier');
});

test('connector id: 1 to 64 of A-Z a-z 0-9 _ . -', (t) => {
  const { connectors } = setup(t);
  for (const bad of ['', 'a'.repeat(65), 'has space', 'a,b', 'a:b', 'ü']) invalid(() => connectors.add(bad, BASE), /connector id must be 1 to 64/);
  assert.equal(connectors.add('a'.repeat(64), BASE).id, 'a'.repeat(64));
  invalid(() => connectors.add('a'.repeat(64), BASE), /exists already/);
});

test('validation of each field, with a message naming it', (t) => {
  const { connectors } = setup(t);
  const cases: Array<[ConnectorInput, RegExp]> = [
    [{ host: '' }, /host must not be empty/],
    [{ host: '   ' }, /host must not be empty/],
    [{ port: 0 }, /port must be 1\.\.65535/],
    [{ port: 65_536 }, /port must be 1\.\.65535/],
    [{ port: 2775.5 }, /port must be 1\.\.65535/],
    [{ systemId: '' }, /system id must be 1 to 15 printable ASCII/],
    [{ systemId: 'x'.repeat(16) }, /system id must be 1 to 15/],
    [{ systemId: 'a b' }, /system id must be 1 to 15/],
    [{ password: '123456789' }, /password must be 0 to 8 octets/],
    [{ password: '🔑🔑🔑🔑' }, /password has U\+1F511, which SMPP cannot carry/],
    [{ systemType: 'x'.repeat(13) }, /system type must be 0 to 12 octets/],
    [{ systemType: 'тип' }, /system type has U\+0442/],
    [{ bind: 'tx' as 'trx' }, /bind must be trx or txrx/],
    [{ tps: -1 }, /tps must be a number ≥ 0/],
    [{ tps: Number.NaN }, /tps must be a number ≥ 0/],
    [{ window: 0 }, /window must be a whole number ≥ 1/],
    [{ window: 2.5 }, /window must be a whole number ≥ 1/],
    [{ dlrId: 'oct' as 'hex' }, /dlr id must be hex, dec or auto/],
    [{ onTimeout: 'drop' as 'wait' }, /on timeout must be reconnect, requeue or wait/],
  ];
  for (const [input, message] of cases) {
    invalid(() => connectors.add('v', { ...BASE, ...input }), message);
  }
  assert.deepEqual(connectors.list(), []);
  const v0 = connectors.add('v', BASE);
  for (const [input, message] of cases) invalid(() => connectors.set('v', input), message);
  assert.deepEqual(connectors.get('v'), v0, 'unchanged by the refused sets');
});

test('dc0: what the carrier means by data_coding 0, one of gsm, gsm-packed, latin1, ascii', (t) => {
  const { connectors } = setup(t);
  invalid(() => connectors.add('c', { ...BASE, dc0: 'ucs2' as 'gsm' }), /dc0 must be one of gsm, gsm-packed, latin1, ascii/);
  assert.equal(connectors.add('c', { ...BASE, dc0: 'latin1' }).dc0, 'latin1');
  assert.equal(connectors.set('c', { dc0: 'gsm-packed' }).dc0, 'gsm-packed');
  assert.equal(connectors.set('c', { tps: 3 }).dc0, 'gsm-packed');
});

test('set changes only what is given, refuses an unknown connector, and bumps config_version', (t) => {
  const { connectors, db, tick } = setup(t);
  const before = connectors.add('s', BASE);
  const v = configVersion(db);
  tick(10);
  const after = connectors.set('s', { tps: 50, dlrId: 'hex', tls: true });
  assert.deepEqual(after, { ...before, tps: 50, dlrId: 'hex', tls: true });
  assert.equal(configVersion(db), v + 1);
  assert.deepEqual(db.prepare("SELECT created_at, updated_at FROM connectors WHERE id = 's'").get(), { created_at: 5_000, updated_at: 5_010 });
  assert.equal(connectors.set('s', { enabled: false }).enabled, false);
  invalid(() => connectors.set('ghost', { tps: 1 }), /no connector ghost/);
});

test('remove: true, then false; bumps config_version only when something went', (t) => {
  const { connectors, db } = setup(t);
  connectors.add('r', BASE);
  const v = configVersion(db);
  assert.equal(connectors.remove('r'), true);
  assert.equal(configVersion(db), v + 1);
  assert.equal(connectors.get('r'), undefined);
  assert.equal(connectors.remove('r'), false);
  assert.equal(configVersion(db), v + 1);
});

test('remove is refused while an MT route uses the connector, in any position and with a weight', (t) => {
  const { connectors, routes, db } = setup(t);
  connectors.add('a', BASE);
  connectors.add('b', BASE);
  connectors.add('ab', BASE); // a prefix of nothing, but "a" is a prefix of its id
  const failover = routes.addMt({
    kind: 'failover',
    connectors: [
      { id: 'ab', weight: 1 },
      { id: 'a', weight: 1 },
    ],
  });
  const weighted = routes.addMt({
    kind: 'weighted',
    connectors: [
      { id: 'b', weight: 3 },
      { id: 'a', weight: 2 },
    ],
    prefix: '44',
  });
  const v = configVersion(db);
  invalid(() => connectors.remove('a'), new RegExp(`connector a is used by MT route\\(s\\) ${failover.id}, ${weighted.id}; remove or change them first`));
  invalid(() => connectors.remove('b'), new RegExp(`used by MT route\\(s\\) ${weighted.id};`));
  assert.ok(connectors.get('a'));
  assert.equal(configVersion(db), v, 'a refused remove changes nothing');
  routes.removeMt(weighted.id);
  assert.equal(connectors.remove('b'), true, 'free once its route is gone');
  invalid(() => connectors.remove('ab'), /used by MT route/);
  routes.removeMt(failover.id);
  assert.equal(connectors.remove('a'), true);
  assert.equal(connectors.remove('ab'), true);
});

test('the password is sealed at rest: the raw column holds neither it nor its length, and only withPasswords opens it', (t) => {
  const { connectors, db, keys } = setup(t);
  connectors.add('p', { ...BASE, password: 'carrier1' });
  connectors.add('q', { ...BASE, password: 'x' });
  connectors.add('e', { ...BASE, password: '' });
  const raw = rawPassword(db, 'p');
  assert.match(raw, new RegExp(`^enc:v1:${keys.currentId()}:[A-Za-z0-9+/]+={0,2}$`));
  assert.ok(!raw.includes('carrier1'));
  assert.equal(rawPassword(db, 'q').length, raw.length, 'every SMPP password seals to the same length');
  assert.notEqual(rawPassword(db, 'e'), '', 'even the empty password is sealed');
  assert.deepEqual(passwords(connectors), { e: '', p: 'carrier1', q: 'x' });
  assert.ok(!JSON.stringify([connectors.get('p'), connectors.list()]).includes('carrier1'));
});

test('set without a password keeps the sealed one (and needs no key); with one, seals the new one', (t) => {
  const { connectors, db, path, dir } = setup(t);
  connectors.add('s', { ...BASE, password: 'old' });
  const sealed = rawPassword(db, 's');
  const absent = join(dir, 'absent.key');
  const keyless = new ConnectorStore(db, ring(path, { keyFile: absent }));
  keyless.set('s', { tps: 5 });
  assert.equal(rawPassword(db, 's'), sealed);
  assert.throws(
    () => keyless.set('s', { password: 'new' }),
    (err: unknown) => err instanceof SecretError && err.code === 'SECRET_KEY_MISSING' && err.message === `store.keyFile ${absent}: no such file`,
  );
  assert.equal(rawPassword(db, 's'), sealed, 'a refused set changes nothing');
  assert.ok(!existsSync(absent), 'a key file named in the config is never created');
  writeFileSync(absent, `${'ab'.repeat(32)}\n`);
  const other = new ConnectorStore(db, ring(path, { keyFile: absent }));
  other.set('s', { password: 'new' });
  assert.deepEqual(passwords(other), { s: 'new' });
});

test('a copy of the database without its key does not yield the password; the error names the connector and where the key was looked for', (t) => {
  const { connectors, path, db } = setup(t);
  connectors.add('c1', { ...BASE, password: 'topsecr' });
  db.pragma('wal_checkpoint(TRUNCATE)');
  const elsewhere = mkdtempSync(join(tmpdir(), 'smppgw-copy-'));
  t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
  const copy = join(elsewhere, 'stolen.db');
  copyFileSync(path, copy);
  const copyDb = openDb(copy, { synchronous: 'normal' });
  t.after(() => copyDb.close());
  const noKey = new ConnectorStore(copyDb, ring(copy)).withPasswords();
  assert.deepEqual(noKey.connectors, []);
  assert.equal(noKey.unreadable.length, 1);
  const e = noKey.unreadable[0]!;
  assert.equal(e.id, 'c1');
  assert.equal(e.error.code, 'SECRET_KEY_MISSING');
  assert.match(
    e.error.message,
    /^connector c1: the password is sealed under key [0-9a-f]{8}, which is not among the keys found \(key file .*smppgw\.key: no such file/,
  );
  assert.ok(!existsSync(join(elsewhere, 'smppgw.key')), 'reading creates no key');
  const wrongKey = new ConnectorStore(copyDb, ring(copy, { env: { SMPPGW_SECRET_KEY: 'cd'.repeat(32) } })).withPasswords();
  assert.equal(wrongKey.unreadable[0]!.error.code, 'SECRET_UNREADABLE');
  assert.match(wrongKey.unreadable[0]!.error.message, /SMPPGW_SECRET_KEY: key [0-9a-f]{8}/);
  for (const u of [...noKey.unreadable, ...wrongKey.unreadable]) assert.ok(!u.error.message.includes('topsecr'));
});

test('a sealed value moved to another row does not open there', (t) => {
  const { connectors, db } = setup(t);
  connectors.add('a', { ...BASE, password: 'aaaa' });
  connectors.add('b', { ...BASE, password: 'bbbb' });
  db.prepare("UPDATE connectors SET password = (SELECT password FROM connectors WHERE id = 'a') WHERE id = 'b'").run();
  const { connectors: ok, unreadable } = connectors.withPasswords();
  assert.deepEqual(
    ok.map((c) => [c.id, c.password]),
    [['a', 'aaaa']],
  );
  assert.equal(unreadable[0]!.id, 'b');
  assert.match(unreadable[0]!.error.message, /^connector b: the password does not open under key [0-9a-f]{8}: altered, or copied from another row$/);
});

test('disabled connectors are not opened for binding', (t) => {
  const { connectors, db } = setup(t);
  connectors.add('off', { ...BASE, enabled: false });
  db.prepare("UPDATE connectors SET password = 'enc:v1:00000000:AAAA' WHERE id = 'off'").run();
  assert.deepEqual(connectors.withPasswords(), { connectors: [], unreadable: [] });
});

test('plain passwords from before sealing still open; reseal(false) seals them once; a database without any creates no key', (t) => {
  const { db, path, dir } = setup(t);
  const store = new ConnectorStore(db, ring(path));
  assert.deepEqual(store.reseal(false), { changed: 0, plain: 0, keyId: undefined });
  assert.ok(!existsSync(join(dir, 'smppgw.key')), 'nothing to seal: no key file');
  const insert = db.prepare("INSERT INTO connectors (id, host, port, system_id, password, created_at, updated_at) VALUES (?, 'h', 1, 's', ?, 0, 0)");
  insert.run('old1', 'legacy1');
  insert.run('old2', '');
  assert.deepEqual(passwords(store), { old1: 'legacy1', old2: '' });
  const v = configVersion(db);
  const r = store.reseal(false);
  assert.deepEqual(r, { changed: 2, plain: 2, keyId: r.keyId });
  assert.match(r.keyId!, /^[0-9a-f]{8}$/);
  assert.ok(existsSync(join(dir, 'smppgw.key')));
  assert.match(rawPassword(db, 'old1'), /^enc:v1:/);
  assert.deepEqual(passwords(store), { old1: 'legacy1', old2: '' });
  assert.equal(configVersion(db), v, 'the daemon seals without making itself reload');
  assert.equal(store.reseal(false).changed, 0);
});

test('rotation: a previous key still opens; reseal(true) moves every password to the current key in one go; then the old key can go', (t) => {
  const { db, path, dir } = setup(t);
  const OLD = '11'.repeat(32);
  const NEW = '22'.repeat(32);
  const before = new ConnectorStore(db, ring(path, { env: { SMPPGW_SECRET_KEY: OLD } }));
  before.add('a', { ...BASE, password: 'pa' });
  before.add('b', { ...BASE, password: 'pb' });
  db.prepare("INSERT INTO connectors (id, host, port, system_id, password, created_at, updated_at) VALUES ('c', 'h', 1, 's', 'plain', 0, 0)").run();
  const newOnly = new ConnectorStore(db, ring(path, { env: { SMPPGW_SECRET_KEY: NEW } }));
  assert.deepEqual(
    newOnly.withPasswords().unreadable.map((u) => u.id),
    ['a', 'b'],
  );
  assert.throws(
    () => newOnly.reseal(true),
    (err: unknown) => err instanceof SecretError && /^connector a: /.test(err.message),
  );
  assert.match(rawPassword(db, 'c'), /^plain$/, 'a failed rekey changes nothing');
  const oldFile = join(dir, 'old.key');
  writeFileSync(oldFile, OLD);
  for (const keys of [
    ring(path, { env: { SMPPGW_SECRET_KEY: NEW, SMPPGW_PREVIOUS_SECRET_KEYS: `${'33'.repeat(32)}, ${OLD}` } }),
    ring(path, { env: { SMPPGW_SECRET_KEY: NEW }, previousKeyFiles: `missing.key,${oldFile}` }),
  ]) {
    assert.deepEqual(passwords(new ConnectorStore(db, keys)), { a: 'pa', b: 'pb', c: 'plain' }, 'the previous key opens what it sealed');
  }
  const rotating = new ConnectorStore(db, ring(path, { env: { SMPPGW_SECRET_KEY: NEW, SMPPGW_PREVIOUS_SECRET_KEYS: OLD } }));
  const v = configVersion(db);
  const r = rotating.reseal(true);
  assert.equal(r.changed, 3);
  assert.equal(r.plain, 1);
  assert.equal(configVersion(db), v + 1, 'the daemon rereads the table');
  assert.deepEqual(rotating.reseal(true), { changed: 0, plain: 0, keyId: r.keyId }, 'a second rekey has nothing to do');
  assert.deepEqual(passwords(newOnly), { a: 'pa', b: 'pb', c: 'plain' }, 'the old key is no longer needed');
});
