// ConnectorStore: add/set/remove/get/list, validation, and removal refused while an MT route
// still sends through the connector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../../src/errors.js';
import { ConnectorStore, type ConnectorInput } from '../../../src/store/connectors.js';
import { configVersion } from '../../../src/store/db.js';
import { RouteStore } from '../../../src/store/routes.js';
import { tmpDb } from '../../helpers/tmpdb.js';

function invalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

const BASE = { host: 'smsc.example', port: 2775, systemId: 'gw', password: 'pw' };

function setup(t: Parameters<typeof tmpDb>[0]) {
  const h = tmpDb(t);
  let now = 5_000;
  return { ...h, connectors: new ConnectorStore(h.db, () => now), routes: new RouteStore(h.db, () => now), tick: (ms: number) => (now += ms) };
}

test('add with defaults, get, list in id order', (t) => {
  const { connectors } = setup(t);
  const c = connectors.add('carrier-b', BASE);
  assert.deepEqual(c, {
    id: 'carrier-b', host: 'smsc.example', port: 2775, systemId: 'gw', password: 'pw', systemType: '', bind: 'trx', tps: 0, window: 10, tls: false, dlrId: 'auto', enabled: true,
  });
  assert.deepEqual(connectors.get('carrier-b'), c);
  assert.equal(connectors.get('nope'), undefined);
  connectors.add('carrier-a', BASE);
  connectors.add('A.1_x-y', BASE);
  assert.deepEqual(connectors.list().map((x) => x.id), ['A.1_x-y', 'carrier-a', 'carrier-b']);
});

test('add with every field', (t) => {
  const { connectors } = setup(t);
  const c = connectors.add('full', {
    host: '192.0.2.1', port: 1, systemId: '123456789012345', password: '12345678', systemType: 'VMA123456789', bind: 'txrx', tps: 12.5, window: 1, tls: true,
    dlrId: 'dec', enabled: false,
  });
  assert.deepEqual(connectors.get('full'), c);
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
    [{ password: '123456789' }, /password must be at most 8 characters/],
    [{ systemType: 'x'.repeat(13) }, /system type must be at most 12/],
    [{ bind: 'tx' as 'trx' }, /bind must be trx or txrx/],
    [{ tps: -1 }, /tps must be a number ≥ 0/],
    [{ tps: Number.NaN }, /tps must be a number ≥ 0/],
    [{ window: 0 }, /window must be a whole number ≥ 1/],
    [{ window: 2.5 }, /window must be a whole number ≥ 1/],
    [{ dlrId: 'oct' as 'hex' }, /dlr id must be hex, dec or auto/],
  ];
  for (const [input, message] of cases) {
    invalid(() => connectors.add('v', { ...BASE, ...input }), message);
  }
  assert.deepEqual(connectors.list(), []);
  const v0 = connectors.add('v', BASE);
  for (const [input, message] of cases) invalid(() => connectors.set('v', input), message);
  assert.deepEqual(connectors.get('v'), v0, 'unchanged by the refused sets');
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
  const failover = routes.addMt({ kind: 'failover', connectors: [{ id: 'ab', weight: 1 }, { id: 'a', weight: 1 }] });
  const weighted = routes.addMt({ kind: 'weighted', connectors: [{ id: 'b', weight: 3 }, { id: 'a', weight: 2 }], prefix: '44' });
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

test('the connector password is stored as given (it is needed to bind)', (t) => {
  const { connectors, db } = setup(t);
  connectors.add('p', { ...BASE, password: 'carrier1' });
  assert.equal(db.prepare("SELECT password FROM connectors WHERE id = 'p'").pluck().get(), 'carrier1');
});
