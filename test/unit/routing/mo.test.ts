// MoRouter: the first route by order whose short code, keyword (first word, any case), source
// prefix and connector all match; a keyword route beats a keyword-less one at equal order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MoRouter, keywordOf, type MoMessage } from '../../../src/routing/mo.js';
import type { MoRoute } from '../../../src/store/routes.js';

let nextId = 1;
function route(over: Partial<MoRoute> = {}): MoRoute {
  return { id: nextId++, order: 100, account: 'acc', shortCode: null, keyword: null, sourcePrefix: null, connector: null, ...over };
}

const MO: MoMessage = { destination: '12345', source: '447700900123', text: 'vote A please', connector: 'c1' };

test('keywordOf: the first word, upper case, after leading blanks', () => {
  assert.equal(keywordOf('vote a'), 'VOTE');
  assert.equal(keywordOf('  Stop'), 'STOP');
  assert.equal(keywordOf('\n\tinfo\nmore'), 'INFO');
  assert.equal(keywordOf('HELP'), 'HELP');
  assert.equal(keywordOf('win!'), 'WIN!', 'punctuation stays part of the word');
  assert.equal(keywordOf(''), '');
  assert.equal(keywordOf('   '), '');
  assert.equal(keywordOf('straße 1'), 'STRASSE');
});

test('no routes, or none matching: undefined', () => {
  assert.equal(new MoRouter([]).route(MO), undefined);
  assert.equal(new MoRouter([route({ shortCode: '999' })]).route(MO), undefined);
});

test('short code must equal the destination exactly', () => {
  const r = route({ shortCode: '12345', account: 'a' });
  const router = new MoRouter([r]);
  assert.equal(router.route(MO)?.account, 'a');
  assert.equal(router.route({ ...MO, destination: '123456' }), undefined);
  assert.equal(router.route({ ...MO, destination: '1234' }), undefined);
});

test("keyword: the message's first word, case-insensitive, whole word only", () => {
  const vote = route({ keyword: 'VOTE', account: 'voting' });
  const router = new MoRouter([vote]);
  for (const text of ['vote A', 'VOTE', 'Vote', '  vOtE b c']) assert.equal(router.route({ ...MO, text })?.account, 'voting', text);
  for (const text of ['voter A', 'a vote', 'vot', '', 'VOTE2']) assert.equal(router.route({ ...MO, text }), undefined, text);
});

test('a keyword route beats a keyword-less one at equal order, whatever the ids', () => {
  const any = route({ shortCode: '12345', account: 'any' });
  const vote = route({ shortCode: '12345', keyword: 'VOTE', account: 'voting' });
  for (const routes of [
    [any, vote],
    [vote, any],
  ]) {
    const router = new MoRouter(routes);
    assert.equal(router.route(MO)?.account, 'voting');
    assert.equal(router.route({ ...MO, text: 'hello' })?.account, 'any');
  }
});

test('order still comes first: a lower-order keyword-less route beats a keyword route', () => {
  const any = route({ order: 10, account: 'any' });
  const vote = route({ order: 20, keyword: 'VOTE', account: 'voting' });
  assert.equal(new MoRouter([vote, any]).route(MO)?.account, 'any');
});

test('among equal order and keyword-ness, the lowest id wins', () => {
  const first = route({ account: 'first' });
  const second = route({ account: 'second' });
  assert.equal(new MoRouter([second, first]).route(MO)?.account, 'first');
  const k1 = route({ keyword: 'VOTE', account: 'k1' });
  const k2 = route({ keyword: 'VOTE', account: 'k2' });
  assert.equal(new MoRouter([k2, k1, first]).route(MO)?.account, 'k1');
});

test('source prefix', () => {
  const uk = route({ sourcePrefix: '44', account: 'uk' });
  const rest = route({ order: 200, account: 'rest' });
  const router = new MoRouter([uk, rest]);
  assert.equal(router.route(MO)?.account, 'uk');
  assert.equal(router.route({ ...MO, source: '33612345678' })?.account, 'rest');
  assert.equal(router.route({ ...MO, source: '4' })?.account, 'rest');
});

test('connector filter: only MOs that came in on that connector', () => {
  const onC2 = route({ connector: 'c2', account: 'c2-only' });
  const rest = route({ order: 200, account: 'rest' });
  const router = new MoRouter([onC2, rest]);
  assert.equal(router.route(MO)?.account, 'rest');
  assert.equal(router.route({ ...MO, connector: 'c2' })?.account, 'c2-only');
});

test('all filters together, and the route returned is the route itself', () => {
  const r = route({ shortCode: '12345', keyword: 'VOTE', sourcePrefix: '447', connector: 'c1', account: 'x' });
  const router = new MoRouter([r]);
  assert.equal(router.route(MO), r);
  assert.equal(router.route({ ...MO, destination: '1' }), undefined);
  assert.equal(router.route({ ...MO, text: 'stop' }), undefined);
  assert.equal(router.route({ ...MO, source: '441' }), undefined);
  assert.equal(router.route({ ...MO, connector: 'c9' }), undefined);
});

test('a binary (text-less) MO matches only keyword-less routes', () => {
  const vote = route({ keyword: 'VOTE', account: 'voting' });
  const any = route({ order: 200, account: 'any' });
  assert.equal(new MoRouter([vote, any]).route({ ...MO, text: '' })?.account, 'any');
});
