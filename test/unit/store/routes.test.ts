// RouteStore: MT and MO routes are validated before they are saved (a route that could not route is
// refused), the optional catch-all requirement, and parseConnectorList.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../../src/errors.js';
import { ConnectorStore } from '../../../src/store/connectors.js';
import { configVersion } from '../../../src/store/db.js';
import { RouteStore, isCatchAll, parseConnectorList, type MtRouteInput } from '../../../src/store/routes.js';
import { MtRouter } from '../../../src/routing/mt.js';
import { tmpDb } from '../../helpers/tmpdb.js';

function invalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

const one = (id: string) => [{ id, weight: 1 }];

function setup(t: Parameters<typeof tmpDb>[0], requireDefault = false) {
  const h = tmpDb(t);
  const connectors = new ConnectorStore(h.db);
  for (const id of ['c1', 'c2', 'c3']) connectors.add(id, { host: 'h', port: 2775, systemId: 's', password: 'p' });
  // The account row directly: AccountStore's scrypt hash would cost ~50 ms per test.
  h.db.prepare("INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES ('acc', 'unused', 0, 0)").run();
  return { ...h, routes: new RouteStore(h.db, () => 42, requireDefault), lenient: new RouteStore(h.db, () => 42, false) };
}

test('parseConnectorList: ids, weights, blanks', () => {
  assert.deepEqual(parseConnectorList('a'), [{ id: 'a', weight: 1 }]);
  assert.deepEqual(parseConnectorList('a,b:3'), [
    { id: 'a', weight: 1 },
    { id: 'b', weight: 3 },
  ]);
  assert.deepEqual(parseConnectorList(' a , b:2 ,c:1'), [
    { id: 'a', weight: 1 },
    { id: 'b', weight: 2 },
    { id: 'c', weight: 1 },
  ]);
  invalid(() => parseConnectorList(''), /empty connector id in ""/);
  invalid(() => parseConnectorList('a,,b'), /empty connector id in "a,,b"/);
  invalid(() => parseConnectorList(':3'), /empty connector id/);
  invalid(() => parseConnectorList('a:0'), /weight of a must be a whole number ≥ 1/);
  invalid(() => parseConnectorList('a:-2'), /weight of a must be a whole number ≥ 1/);
  invalid(() => parseConnectorList('a:1.5'), /weight of a must be a whole number ≥ 1/);
  invalid(() => parseConnectorList('a:x'), /weight of a must be a whole number ≥ 1/);
  invalid(() => parseConnectorList('a:'), /weight of a must be a whole number ≥ 1/);
});

test('addMt with defaults, listMt in order then id, with weights round-tripped', (t) => {
  const { routes, db } = setup(t);
  const v = configVersion(db);
  const a = routes.addMt({ connectors: one('c1') });
  assert.deepEqual(a, { id: a.id, order: 100, kind: 'static', connectors: one('c1'), account: null, prefix: null, source: null, timeFrom: null, timeTo: null });
  assert.equal(configVersion(db), v + 1);
  const b = routes.addMt({
    order: 10,
    kind: 'weighted',
    connectors: [
      { id: 'c1', weight: 3 },
      { id: 'c2', weight: 1 },
    ],
    prefix: '44',
    account: 'acc',
  });
  const c = routes.addMt({
    order: 10,
    kind: 'failover',
    connectors: [
      { id: 'c3', weight: 1 },
      { id: 'c1', weight: 1 },
    ],
    source: '/^INFO/',
    timeFrom: '22:00',
    timeTo: '06:00',
  });
  const listed = routes.listMt();
  assert.deepEqual(
    listed.map((r) => r.id),
    [b.id, c.id, a.id],
  );
  assert.deepEqual(listed[0], b);
  assert.deepEqual(listed[1], c);
  assert.deepEqual(db.prepare('SELECT connectors FROM mt_routes WHERE id = ?').pluck().get(b.id), 'c1:3,c2');
});

test('addMt refuses a connector that does not exist, or one listed twice', (t) => {
  const { routes } = setup(t);
  invalid(() => routes.addMt({ connectors: one('ghost') }), /no connector ghost: add it first/);
  invalid(
    () =>
      routes.addMt({
        kind: 'failover',
        connectors: [
          { id: 'c1', weight: 1 },
          { id: 'ghost', weight: 1 },
        ],
      }),
    /no connector ghost/,
  );
  invalid(
    () =>
      routes.addMt({
        kind: 'failover',
        connectors: [
          { id: 'c1', weight: 1 },
          { id: 'c1', weight: 1 },
        ],
      }),
    /connector c1 is listed twice/,
  );
  invalid(() => routes.addMt({ connectors: [] }), /at least one connector/);
  assert.deepEqual(routes.listMt(), []);
});

test('addMt refuses an account that does not exist', (t) => {
  const { routes } = setup(t);
  invalid(() => routes.addMt({ connectors: one('c1'), account: 'nobody' }), /no account nobody/);
  assert.equal(routes.addMt({ connectors: one('c1'), account: 'acc' }).account, 'acc');
});

test('kinds: static takes exactly one connector; weights only on weighted; unknown kinds refused', (t) => {
  const { routes } = setup(t);
  const two = [
    { id: 'c1', weight: 1 },
    { id: 'c2', weight: 1 },
  ];
  invalid(() => routes.addMt({ kind: 'static', connectors: two }), /a static route has exactly one connector; use failover, roundrobin or weighted/);
  invalid(() => routes.addMt({ connectors: two }), /exactly one connector/);
  for (const kind of ['static', 'failover', 'roundrobin'] as const) {
    invalid(() => routes.addMt({ kind, connectors: [{ id: 'c1', weight: 2 }] }), /weights only apply to weighted routes/);
  }
  invalid(() => routes.addMt({ kind: 'random' as 'static', connectors: one('c1') }), /kind must be one of static, roundrobin, weighted, failover/);
  for (const kind of ['failover', 'roundrobin', 'weighted'] as const) assert.equal(routes.addMt({ kind, connectors: two }).kind, kind);
  assert.equal(routes.addMt({ kind: 'weighted', connectors: [{ id: 'c1', weight: 5 }] }).connectors[0]!.weight, 5);
});

test('addMt refuses a weight that is not a whole number ≥ 1 (it could not be read back)', (t) => {
  const { routes } = setup(t);
  for (const weight of [0, -1, 1.5, Number.NaN]) {
    invalid(
      () =>
        routes.addMt({
          kind: 'weighted',
          connectors: [
            { id: 'c1', weight },
            { id: 'c2', weight: 1 },
          ],
        }),
      /weight of c1 must be a whole number ≥ 1/,
    );
  }
  assert.doesNotThrow(() => routes.listMt(), 'the table stays readable');
});

test('prefix: digits (optionally +) or letters, nothing else', (t) => {
  const { routes } = setup(t);
  for (const bad of ['44 7', '44-7', '4*', '++44', '4+4', '44\n'])
    invalid(() => routes.addMt({ connectors: one('c1'), prefix: bad }), /must be digits \(or letters for alphanumeric addresses\)/);
  assert.equal(routes.addMt({ connectors: one('c1'), prefix: '+44' }).prefix, '+44');
  assert.equal(routes.addMt({ connectors: one('c1'), prefix: 'INFO' }).prefix, 'INFO');
});

test('source: a prefix, or a /regex/ that must compile', (t) => {
  const { routes } = setup(t);
  invalid(() => routes.addMt({ connectors: one('c1'), source: '/[unclosed/' }), /source regex \/\[unclosed\/: .*Invalid regular expression/);
  invalid(() => routes.addMt({ connectors: one('c1'), source: '/(?<x/' }), /source regex/);
  assert.equal(routes.addMt({ connectors: one('c1'), source: '/^BANK$/' }).source, '/^BANK$/');
  assert.equal(routes.addMt({ connectors: one('c1'), source: '[not-a-regex' }).source, '[not-a-regex', 'without slashes it is a plain prefix');
  assert.equal(routes.addMt({ connectors: one('c1'), source: '/' }).source, '/', 'a lone slash is a prefix too');
});

test('time window: HH:MM UTC, both ends or neither', (t) => {
  const { routes } = setup(t);
  invalid(() => routes.addMt({ connectors: one('c1'), timeFrom: '08:00' }), /give both --time-from and --time-to, or neither/);
  invalid(() => routes.addMt({ connectors: one('c1'), timeTo: '08:00' }), /give both --time-from and --time-to, or neither/);
  for (const bad of ['24:00', '8:00', '08:60', '0800', '08:00:00', 'ab:cd', '']) {
    invalid(() => routes.addMt({ connectors: one('c1'), timeFrom: bad, timeTo: '09:00' }), /must be HH:MM \(UTC\)/);
    invalid(() => routes.addMt({ connectors: one('c1'), timeFrom: '09:00', timeTo: bad }), /must be HH:MM \(UTC\)/);
  }
  const r = routes.addMt({ connectors: one('c1'), timeFrom: '23:59', timeTo: '00:00' });
  assert.deepEqual([r.timeFrom, r.timeTo], ['23:59', '00:00']);
});

test('time window: an empty window (from = to) is refused rather than never matching', (t) => {
  const { routes } = setup(t);
  invalid(() => routes.addMt({ connectors: one('c1'), timeFrom: '09:00', timeTo: '09:00' }), /time/);
});

test('order must be a whole number', (t) => {
  const { routes } = setup(t);
  invalid(() => routes.addMt({ connectors: one('c1'), order: 1.5 }), /order must be a whole number/);
  invalid(() => routes.addMo({ account: 'acc', order: Number.NaN }), /order must be a whole number/);
  assert.equal(routes.addMt({ connectors: one('c1'), order: -5 }).order, -5);
});

test('isCatchAll: no account, prefix, source or time filter', () => {
  const none = { account: null, prefix: null, source: null, timeFrom: null };
  assert.equal(isCatchAll(none), true);
  assert.equal(isCatchAll({ ...none, account: 'a' }), false);
  assert.equal(isCatchAll({ ...none, prefix: '44' }), false);
  assert.equal(isCatchAll({ ...none, source: 'X' }), false);
  assert.equal(isCatchAll({ ...none, timeFrom: '01:00' }), false);
});

test('requireDefault: the first route must be a catch-all, and a refused add leaves nothing behind', (t) => {
  const { routes, db } = setup(t, true);
  const v = configVersion(db);
  invalid(() => routes.addMt({ connectors: one('c1'), prefix: '44' }), /the MT table needs a catch-all route/);
  assert.deepEqual(routes.listMt(), [], 'the insert was rolled back');
  assert.equal(configVersion(db), v);
  const all = routes.addMt({ connectors: one('c1'), order: 1000 });
  const specific = routes.addMt({ connectors: one('c2'), prefix: '44' });
  assert.deepEqual(
    routes.listMt().map((r) => r.id),
    [specific.id, all.id],
  );
});

test('requireDefault: removing the last catch-all is refused while other routes remain', (t) => {
  const { routes, lenient, db } = setup(t, true);
  const all1 = routes.addMt({ connectors: one('c1'), order: 1000 });
  const all2 = routes.addMt({ connectors: one('c2'), order: 2000 });
  const specific = routes.addMt({ connectors: one('c3'), account: 'acc' });
  assert.equal(routes.removeMt(all1.id), true, 'another catch-all remains');
  const v = configVersion(db);
  invalid(() => routes.removeMt(all2.id), /needs a catch-all route/);
  assert.deepEqual(
    routes.listMt().map((r) => r.id),
    [specific.id, all2.id],
    'the delete was rolled back',
  );
  assert.equal(configVersion(db), v);
  // Without the requirement the same removal is allowed.
  assert.equal(lenient.removeMt(all2.id), true);
  assert.equal(routes.removeMt(specific.id), true, 'emptying the table is allowed');
  assert.equal(routes.removeMt(specific.id), false);
});

test('requireDefault: a table saved without the requirement is refused at the next change', (t) => {
  const { routes, lenient } = setup(t, true);
  lenient.addMt({ connectors: one('c1'), prefix: '1' });
  invalid(() => routes.addMt({ connectors: one('c2'), prefix: '2' }), /needs a catch-all/);
  assert.ok(routes.addMt({ connectors: one('c2') }), 'adding the catch-all itself is allowed');
});

test('addMo: defaults, keyword upper-cased, list in order then id', (t) => {
  const { routes, db } = setup(t);
  const v = configVersion(db);
  const a = routes.addMo({ account: 'acc' });
  assert.deepEqual(a, { id: a.id, order: 100, account: 'acc', shortCode: null, keyword: null, sourcePrefix: null, connector: null });
  assert.equal(configVersion(db), v + 1);
  const b = routes.addMo({ account: 'acc', order: 5, shortCode: '12345', keyword: 'Vote', sourcePrefix: '447', connector: 'c2' });
  assert.equal(b.keyword, 'VOTE');
  assert.deepEqual(routes.listMo(), [b, a]);
  assert.equal(routes.addMo({ account: 'acc', keyword: '' }).keyword, null, 'an empty keyword is no keyword');
});

test('addMo refuses a missing account, a missing connector, and a keyword of more than one word', (t) => {
  const { routes } = setup(t);
  invalid(() => routes.addMo({ account: 'nobody' }), /no account nobody/);
  invalid(() => routes.addMo({ account: 'acc', connector: 'ghost' }), /no connector ghost/);
  invalid(() => routes.addMo({ account: 'acc', keyword: 'two words' }), /keyword must be one word/);
  invalid(() => routes.addMo({ account: 'acc', keyword: ' lead' }), /keyword must be one word/);
  assert.deepEqual(routes.listMo(), []);
});

test('removeMo: true once, then false, bumping config_version once', (t) => {
  const { routes, db } = setup(t);
  const r = routes.addMo({ account: 'acc' });
  const v = configVersion(db);
  assert.equal(routes.removeMo(r.id), true);
  assert.equal(routes.removeMo(r.id), false);
  assert.equal(configVersion(db), v + 1);
  assert.deepEqual(routes.listMo(), []);
});

test('a saved table loads into MtRouter and routes', (t) => {
  const { routes } = setup(t);
  routes.addMt({ connectors: one('c1'), order: 1000 });
  const uk = routes.addMt({
    kind: 'failover',
    connectors: [
      { id: 'c2', weight: 1 },
      { id: 'c3', weight: 1 },
    ],
    prefix: '44',
  });
  const router = new MtRouter(routes.listMt());
  assert.deepEqual(router.route({ account: 'acc', source: 'X', destination: '447700900000' }), { routeId: uk.id, connectors: ['c2', 'c3'] });
});

test('a "+" prefix matches the same destinations as the prefix without it', (t) => {
  const { routes } = setup(t);
  const input: MtRouteInput = { connectors: one('c1'), prefix: '+44' };
  const r = routes.addMt(input);
  const router = new MtRouter(routes.listMt());
  assert.equal(router.route({ account: 'acc', source: 'X', destination: '+447700900000' })?.routeId, r.id);
  assert.equal(router.route({ account: 'acc', source: 'X', destination: '447700900000' })?.routeId, r.id);
});
