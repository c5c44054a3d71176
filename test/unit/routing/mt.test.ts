// MtRouter: the first matching route by order (longest destination prefix first among equal
// orders, then id) with account, source and time filters; the kinds order the connectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MtRouter, type MtMessage } from '../../../src/routing/mt.js';
import type { MtRoute } from '../../../src/store/routes.js';
import { seededRandom } from '../../helpers/random-pdu.js';

let nextId = 1;
function route(over: Partial<Omit<MtRoute, 'connectors'>> & { connectors?: Array<MtRoute['connectors'][number] | string> } = {}): MtRoute {
  const { connectors = ['c1'], ...rest } = over;
  return {
    id: nextId++,
    order: 100,
    kind: 'static',
    account: null,
    prefix: null,
    source: null,
    timeFrom: null,
    timeTo: null,
    ...rest,
    connectors: connectors.map((c) => (typeof c === 'string' ? { id: c, weight: 1 } : c)),
  };
}

const MSG: MtMessage = { account: 'acc', source: 'SHOP', destination: '447700900123' };
const at = (hhmm: string, day = '2024-03-10'): number => Date.parse(`${day}T${hhmm}:00.000Z`);
const NOON = at('12:00');

test('no routes, or none matching: undefined', () => {
  assert.equal(new MtRouter([]).route(MSG, NOON), undefined);
  assert.equal(new MtRouter([]).size, 0);
  assert.equal(new MtRouter([route({ prefix: '1' })]).route(MSG, NOON), undefined);
});

test('a catch-all static route names its one connector', () => {
  const r = route({ connectors: ['only'] });
  assert.deepEqual(new MtRouter([r]).route(MSG, NOON), { routeId: r.id, connectors: ['only'] });
});

test('lower order wins, whatever the prefix length and id', () => {
  const specific = route({ order: 50, prefix: '4477009', connectors: ['specific'] });
  const broad = route({ order: 10, connectors: ['broad'] });
  assert.equal(new MtRouter([specific, broad]).route(MSG, NOON)?.routeId, broad.id);
  assert.equal(new MtRouter([broad, specific]).route(MSG, NOON)?.routeId, broad.id, 'input order does not matter');
});

test('among equal orders the longest matching prefix wins, then the lowest id', () => {
  const all = route({ connectors: ['all'] });
  const p44 = route({ prefix: '44', connectors: ['uk'] });
  const p447 = route({ prefix: '447', connectors: ['uk-mobile'] });
  const p4478 = route({ prefix: '4478', connectors: ['other'] });
  const router = new MtRouter([all, p44, p4478, p447]);
  assert.equal(router.size, 4);
  assert.equal(router.route(MSG, NOON)?.routeId, p447.id);
  assert.equal(router.route({ ...MSG, destination: '441234' }, NOON)?.routeId, p44.id);
  assert.equal(router.route({ ...MSG, destination: '33123' }, NOON)?.routeId, all.id);
  const twinA = route({ prefix: '33', connectors: ['a'] });
  const twinB = route({ prefix: '33', connectors: ['b'] });
  assert.equal(new MtRouter([twinB, twinA]).route({ ...MSG, destination: '33123' }, NOON)?.routeId, twinA.id);
});

test('a prefix without "+" matches a destination written with "+"', () => {
  const p = route({ prefix: '44' });
  const router = new MtRouter([p]);
  assert.equal(router.route({ ...MSG, destination: '+447700900123' }, NOON)?.routeId, p.id);
  assert.equal(router.route({ ...MSG, destination: '+337700900123' }, NOON), undefined);
});

test('account filter', () => {
  const mine = route({ account: 'acc', connectors: ['mine'] });
  const rest = route({ order: 200, connectors: ['rest'] });
  const router = new MtRouter([mine, rest]);
  assert.equal(router.route(MSG, NOON)?.routeId, mine.id);
  assert.equal(router.route({ ...MSG, account: 'other' }, NOON)?.routeId, rest.id);
  assert.equal(router.route({ ...MSG, account: 'ACC' }, NOON)?.routeId, rest.id, 'account names are case-sensitive');
});

test('source filter: a prefix, or a /regex/', () => {
  const bank = route({ source: '/^BANK[0-9]*$/', connectors: ['otp'] });
  const shop = route({ source: 'SHOP', connectors: ['shop'] });
  const rest = route({ order: 200, connectors: ['rest'] });
  const router = new MtRouter([bank, shop, rest]);
  assert.equal(router.route({ ...MSG, source: 'BANK42' }, NOON)?.routeId, bank.id);
  assert.equal(router.route({ ...MSG, source: 'BANKX' }, NOON)?.routeId, rest.id);
  assert.equal(router.route({ ...MSG, source: 'MYBANK' }, NOON)?.routeId, rest.id, 'anchored regex');
  assert.equal(router.route({ ...MSG, source: 'SHOPPING' }, NOON)?.routeId, shop.id, 'prefix');
  assert.equal(router.route({ ...MSG, source: 'XSHOP' }, NOON)?.routeId, rest.id);
  // Unanchored regex matches anywhere; a lone "/" is a prefix.
  const anywhere = route({ source: '/OTP/' });
  assert.equal(new MtRouter([anywhere]).route({ ...MSG, source: 'MYOTP1' }, NOON)?.routeId, anywhere.id);
  const slash = route({ source: '/' });
  assert.equal(new MtRouter([slash]).route({ ...MSG, source: '/x' }, NOON)?.routeId, slash.id);
  assert.equal(new MtRouter([slash]).route({ ...MSG, source: 'x' }, NOON), undefined);
});

test('all filters must match together', () => {
  const r = route({ account: 'acc', prefix: '44', source: 'SHOP', timeFrom: '09:00', timeTo: '17:00' });
  const router = new MtRouter([r]);
  assert.equal(router.route(MSG, NOON)?.routeId, r.id);
  assert.equal(router.route({ ...MSG, account: 'x' }, NOON), undefined);
  assert.equal(router.route({ ...MSG, destination: '33' }, NOON), undefined);
  assert.equal(router.route({ ...MSG, source: 'BANK' }, NOON), undefined);
  assert.equal(router.route(MSG, at('18:00')), undefined);
});

test('time window within a day: from inclusive, to exclusive, in UTC', () => {
  const day = route({ timeFrom: '09:00', timeTo: '17:30', connectors: ['day'] });
  const rest = route({ order: 200, connectors: ['rest'] });
  const router = new MtRouter([day, rest]);
  const expect: Array<[string, number]> = [
    ['08:59', rest.id],
    ['09:00', day.id],
    ['12:00', day.id],
    ['17:29', day.id],
    ['17:30', rest.id],
    ['23:00', rest.id],
    ['00:00', rest.id],
  ];
  for (const [hhmm, id] of expect) assert.equal(router.route(MSG, at(hhmm))?.routeId, id, hhmm);
  // Seconds inside a minute count as that minute.
  assert.equal(router.route(MSG, at('17:29') + 59_999)?.routeId, day.id);
  assert.equal(router.route(MSG, at('08:59') + 59_999)?.routeId, rest.id);
});

test('time window across midnight', () => {
  const night = route({ timeFrom: '22:00', timeTo: '06:00', connectors: ['night'] });
  const rest = route({ order: 200, connectors: ['rest'] });
  const router = new MtRouter([night, rest]);
  const expect: Array<[string, number]> = [
    ['21:59', rest.id],
    ['22:00', night.id],
    ['23:59', night.id],
    ['00:00', night.id],
    ['03:30', night.id],
    ['05:59', night.id],
    ['06:00', rest.id],
    ['12:00', rest.id],
  ];
  for (const [hhmm, id] of expect) assert.equal(router.route(MSG, at(hhmm))?.routeId, id, hhmm);
  // Any day: the window is a time of day.
  assert.equal(router.route(MSG, at('23:00', '2031-12-31'))?.routeId, night.id);
  assert.equal(router.route(MSG, at('07:00', '1999-01-01'))?.routeId, rest.id);
});

test('time windows use UTC whatever the process time zone', () => {
  // 12:00 UTC written with an offset is still 12:00 UTC.
  const r = route({ timeFrom: '11:00', timeTo: '13:00' });
  assert.equal(new MtRouter([r]).route(MSG, Date.parse('2024-03-10T14:00:00+02:00'))?.routeId, r.id);
  assert.equal(new MtRouter([r]).route(MSG, Date.parse('2024-03-10T12:00:00+02:00')), undefined);
});

test('a route outside its window lets the next one match; now defaults to the current time', () => {
  const always = route({ connectors: ['always'] });
  assert.equal(new MtRouter([always]).route(MSG)?.routeId, always.id);
});

test("failover and static: the connectors in the route's order, every time", () => {
  const f = route({ kind: 'failover', connectors: ['primary', 'secondary', 'tertiary'] });
  const router = new MtRouter([f]);
  for (let i = 0; i < 3; i++) assert.deepEqual(router.route(MSG, NOON)?.connectors, ['primary', 'secondary', 'tertiary']);
});

test('roundrobin rotates the first choice, the rest following in list order', () => {
  const rr = route({ kind: 'roundrobin', connectors: ['a', 'b', 'c'] });
  const other = route({ kind: 'roundrobin', prefix: '33', connectors: ['x', 'y'] });
  const router = new MtRouter([rr, other]);
  const got = Array.from({ length: 7 }, () => router.route(MSG, NOON)!.connectors);
  assert.deepEqual(got, [
    ['a', 'b', 'c'],
    ['b', 'c', 'a'],
    ['c', 'a', 'b'],
    ['a', 'b', 'c'],
    ['b', 'c', 'a'],
    ['c', 'a', 'b'],
    ['a', 'b', 'c'],
  ]);
  // Each route keeps its own position.
  assert.deepEqual(router.route({ ...MSG, destination: '331' }, NOON)!.connectors, ['x', 'y']);
  assert.deepEqual(router.route(MSG, NOON)!.connectors, ['b', 'c', 'a']);
  assert.deepEqual(router.route({ ...MSG, destination: '331' }, NOON)!.connectors, ['y', 'x']);
  // A message that another route takes does not move this route's rotation.
  assert.deepEqual(router.route({ ...MSG, destination: '331' }, NOON)!.connectors, ['x', 'y']);
  assert.deepEqual(router.route(MSG, NOON)!.connectors, ['c', 'a', 'b']);
});

test('weighted: the injected random picks the first choice by cumulative weight', () => {
  const w = route({
    kind: 'weighted',
    connectors: [
      { id: 'a', weight: 3 },
      { id: 'b', weight: 1 },
      { id: 'c', weight: 2 },
    ],
  });
  // total 6: [0,3) → a, [3,4) → b, [4,6) → c; the others follow in list order.
  const cases: Array<[number, string[]]> = [
    [0, ['a', 'b', 'c']],
    [2.999 / 6, ['a', 'b', 'c']],
    [3 / 6, ['b', 'a', 'c']],
    [3.999 / 6, ['b', 'a', 'c']],
    [4 / 6, ['c', 'a', 'b']],
    [0.999999, ['c', 'a', 'b']],
  ];
  for (const [r, order] of cases) assert.deepEqual(new MtRouter([w], () => r).route(MSG, NOON)!.connectors, order, `random ${r}`);
});

test('weighted 3:1 gives about 75/25 over 4,000 picks with a seeded random, and the other follows for failover', () => {
  const w = route({
    kind: 'weighted',
    connectors: [
      { id: 'big', weight: 3 },
      { id: 'small', weight: 1 },
    ],
  });
  const router = new MtRouter([w], seededRandom(20240310));
  const counts = { big: 0, small: 0 };
  for (let i = 0; i < 4000; i++) {
    const c = router.route(MSG, NOON)!.connectors;
    assert.equal(c.length, 2);
    assert.deepEqual([...c].sort(), ['big', 'small'], 'every connector is still in the list');
    counts[c[0] as 'big' | 'small']++;
  }
  // 4,000 draws at p = 0.75: σ ≈ 27, so 3,000 ± 150 is more than 5σ.
  assert.ok(Math.abs(counts.big - 3000) < 150, `big ${counts.big}`);
  assert.equal(counts.big + counts.small, 4000);
});

test('weighted with equal weights is uniform, and a single connector is always chosen', () => {
  const w = route({ kind: 'weighted', connectors: ['a', 'b', 'c', 'd'] });
  const router = new MtRouter([w], seededRandom(7));
  const counts: Record<string, number> = {};
  for (let i = 0; i < 4000; i++) {
    const first = router.route(MSG, NOON)!.connectors[0]!;
    counts[first] = (counts[first] ?? 0) + 1;
  }
  for (const id of ['a', 'b', 'c', 'd']) assert.ok(Math.abs(counts[id]! - 1000) < 150, `${id}: ${counts[id]}`);
  const solo = route({ kind: 'weighted', connectors: [{ id: 'only', weight: 9 }] });
  assert.deepEqual(new MtRouter([solo], () => 0.9999).route(MSG, NOON)!.connectors, ['only']);
});

test('the router copies the table: later changes to the input array do not affect it', () => {
  const routes = [route({ connectors: ['a'] })];
  const router = new MtRouter(routes);
  routes.push(route({ order: 1, connectors: ['b'] }));
  assert.deepEqual(router.route(MSG, NOON)!.connectors, ['a']);
  assert.equal(router.size, 1);
});
